"""The names users give things: constructor and function parameters, weights, gradients.

Tables of the names found in coursework and from-scratch libraries, and the matching of a
callee's parameters to Conv1d's.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..nn.spec import ConvSpec
from .protocol import Unsupported

# Constructor (and function) parameter names, by Conv1d's parameter; the first match wins.
PARAMETER_NAMES = {
    "in_channels": (
        "in_channels",
        "in_channel",
        "in_ch",
        "in_chan",
        "c_in",
        "cin",
        "input_channels",
        "n_in",
        "num_in_channels",
    ),
    "out_channels": (
        "out_channels",
        "out_channel",
        "out_ch",
        "out_chan",
        "c_out",
        "cout",
        "output_channels",
        "n_out",
        "num_filters",
        "filters",
        "num_out_channels",
    ),
    "kernel_size": (
        "kernel_size",
        "kernal_size",
        "kernel",
        "ksize",
        "k",
        "filter_size",
        "kernel_width",
        "kernel_length",
    ),
    "stride": ("stride", "strides", "s"),
    "padding": ("padding", "pad", "pad_size", "padding_size"),
    "dilation": ("dilation", "dilation_rate"),
    "groups": ("groups", "num_groups"),
    "bias": ("bias", "use_bias", "with_bias", "has_bias"),
    "padding_mode": ("padding_mode", "pad_mode"),
}
# What a layer that lacks a parameter computes; a case asking for anything else is skipped.
# A layer without a bias switch runs no-bias cases with its bias set to zero.
IMPLIED = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "padding_mode": "zeros"}
# The command-line option that gives each implied value, for the skip's reason.
OPTIONS = {
    "stride": "-s 1",
    "padding": "--padding 0",
    "dilation": "--dilation 1",
    "groups": "--groups 1",
    "padding_mode": "--padding-mode zeros",
}
WEIGHT_NAMES = ("W", "weight", "weights", "w", "kernel", "filters")
BIAS_NAMES = ("b", "bias", "biases")
GRADIENT_NAMES = {
    "dW": (
        "dW",
        "dLdW",
        "grad_W",
        "dw",
        "grad_w",
        "grad_weight",
        "grad_weights",
        "weight_grad",
        "weights_grad",
        "d_weight",
        "d_weights",
        "dweights",
        "grad_kernel",
        "kernel_grad",
        "d_kernel",
        "dkernel",
    ),
    "db": (
        "db",
        "dLdb",
        "grad_b",
        "grad_bias",
        "grad_biases",
        "bias_grad",
        "biases_grad",
        "d_bias",
        "d_biases",
        "dbias",
        "dbiases",
    ),
}
INNER_NAMES = ("conv1d_stride1", "conv", "layer", "inner")  # objects that hold the weights
# Dicts of weights, and of gradients (under the gradient's name or its weight's: grads["W"]).
PARAMETER_DICTS = ("params", "parameters")
GRADIENT_DICTS = ("grads", "gradients")
X_NAMES = ("x", "X", "A", "input", "inputs", "data")


def parameters(callee: Any) -> dict[str, inspect.Parameter]:
    """The parameters of a function or a class's constructor, without self."""
    try:
        found = dict(inspect.signature(callee).parameters)
    except (TypeError, ValueError):
        return {}
    found.pop("self", None)
    return found


def arguments(params: dict[str, inspect.Parameter], spec: ConvSpec) -> tuple[dict, set[str]]:
    """Conv1d's parameters under the names the callee uses, and which of them it takes."""
    kwargs, taken = {}, set()
    for ours, names in PARAMETER_NAMES.items():
        name = next((n for n in names if n in params), None)
        if name is not None:
            kwargs[name], taken = getattr(spec, ours), taken | {ours}
            if ours == "padding":
                kwargs[name] = _as_int_padding(spec)
    return kwargs, taken


def _as_int_padding(spec: ConvSpec) -> int | str:
    """'valid' and a symmetric 'same' as the int they mean, which every layer with a padding
    parameter takes; an asymmetric 'same' (an even span) only as the word."""
    left, right = spec.pads
    return left if left == right else spec.padding


def refuse_unsupported(spec: ConvSpec, taken: set[str], who: str) -> None:
    """Raise Unsupported when the case needs a parameter `who` does not take, naming the
    option that would make the case run."""
    lacking = [
        name
        for name, implied in IMPLIED.items()
        if name not in taken and getattr(spec, name) != implied
    ]
    if lacking:
        asked = ", ".join(f"{name}={getattr(spec, name)!r}" for name in lacking)
        options = " ".join(OPTIONS[name] for name in lacking)
        raise Unsupported(f"{who} takes no {asked} (run with {options})")


def required(params: dict[str, inspect.Parameter], given: dict) -> list[str]:
    """The constructor's required parameters that `given` leaves out."""
    open_ = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        name
        for name, p in params.items()
        if p.default is inspect.Parameter.empty and p.kind not in open_ and name not in given
    ]
