"""The layers under test, behind one call: `run_layer(case, tensors) -> LayerRun`.

`builtin` is our own numpy Conv1D, run in this process. A user's layer
(`path/to/file.py:Name`, `package.module:Name`, or a module of functions) runs
in a child process with a timeout (see `isolation`), driven by the adapters
below in one of four calling conventions:

- seed: the notebook's. Conv1D(in, out, K, stride); W, b; `__call__(x)`;
  `backward(delta) -> (db, dW, dX)`.
- mytorch: CMU 11-785's. Constructor with `weight_init_fn`/`bias_init_fn`;
  `forward(x)`; `backward(delta) -> dX`; gradients in `dW`/`db` or
  `dLdW`/`dLdb`, possibly on an inner `conv1d_stride1`.
- layer: any stateful object; constructor arguments mapped by name; weights and
  gradients found among common attribute names (`weight.data`, `weight.grad`...).
- functional: a module with `forward(x, w, b, stride, ...) -> (y, cache)` and
  `backward(dy, cache) -> (dx, dw, db)`.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..check.case import BUILTIN, Case
from ..nn.layer import Conv1D

Tensors = dict[str, np.ndarray]


@dataclass
class LayerRun:
    """What running a layer gave: its outputs (y, dX, dW, db), or why there are none.

    status is "ok", "skip" (the layer cannot take the case's parameters) or
    "error" (it raised, hung, crashed or gave something unusable). `initial`
    holds the weights the layer was built with, before ours were put in.
    """

    outputs: Tensors = field(default_factory=dict)
    status: str = "ok"
    message: str = ""
    convention: str = BUILTIN
    notes: list[str] = field(default_factory=list)
    output: str = ""
    initial: Tensors = field(default_factory=dict)


class Unsupported(Exception):
    """The layer cannot take this case's parameters: the case is skipped."""


class Unusable(Exception):
    """The layer cannot be driven at all (no such class, no forward...): an error row."""


# ---------------------------------------------------------------- loading


def load(impl: str) -> Any:
    """The object `impl` names: `file.py[:Name]` or `package.module[:Name]`.

    A file's folder goes first on the import path, since coursework files import
    their siblings. Without a name the module itself is returned.
    """
    target, _, name = impl.partition(":")
    if target.endswith(".py"):
        path = Path(target).resolve()
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    else:
        sys.path.insert(0, str(Path.cwd()))
        module = importlib.import_module(target)
    if not name:
        return module
    if not hasattr(module, name):
        found = [n for n, v in vars(module).items() if inspect.isclass(v) and not n.startswith("_")]
        raise Unusable(f"{target} has no {name!r} (it defines: {', '.join(found) or 'no classes'})")
    return getattr(module, name)


def detect(target: Any) -> str:
    """The calling convention of a class or module, from its signature alone.

    A module is functional; a constructor with init callbacks is mytorch; one of
    exactly four required parameters is the notebook's (in, out, K, stride); any
    other class is a layer whose constructor is called by parameter names.
    """
    if isinstance(target, ModuleType):
        return "functional"
    params = _init_params(target)
    if {"weight_init_fn", "bias_init_fn"} & set(params):
        return "mytorch"
    required = [p for p in params.values() if p.default is inspect.Parameter.empty]
    return "seed" if len(params) == len(required) == 4 else "layer"


# ------------------------------------------------------- the four conventions

# Constructor (and function) parameter names, by our parameter; the first match wins.
NAMES = {
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
WEIGHT_NAMES = ("W", "weight", "weights", "w", "kernel", "filters")
BIAS_NAMES = ("b", "bias", "biases")
GRAD_NAMES = {
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
INNER_NAMES = ("conv1d_stride1", "conv", "layer", "inner")
X_NAMES = ("x", "X", "A", "input", "inputs", "data")
# The order in which backward returns several gradients, by convention.
RETURN_ORDER = {"seed": ("db", "dW", "dX"), "functional": ("dX", "dW", "db")}


def run_user_layer(
    target: Any, convention: str, case: Case, tensors: Tensors
) -> tuple[LayerRun, Any]:
    """Drive `target` in `convention` on the case's tensors: forward x, backward dy.

    Returns the run and the layer instance (None for functional), which
    `accumulation_note` may call again.
    """
    if convention == "functional":
        return LayerRun(_run_functional(target, case, tensors), convention=convention), None
    layer = _build(target, convention, case, tensors)
    initial = _read_weights(layer)
    outputs = {k: v.copy() for k, v in _forward_backward(layer, convention, tensors).items()}
    return LayerRun(outputs, convention=convention, initial=initial), layer


def accumulation_note(layer: Any, convention: str, tensors: Tensors, first: Tensors) -> str | None:
    """Whether dW adds up when the same instance runs backward again, as torch's .grad does."""
    second = _forward_backward(layer, convention, tensors).get("dW")
    dW = first.get("dW")
    if dW is None or second is None or dW.shape != second.shape or not dW.any():
        return None
    if np.allclose(second, 2 * dW, rtol=1e-4, atol=0):
        return "gradients accumulate across backward calls, like torch's .grad (reset them)"
    if np.allclose(second, dW, rtol=1e-4, atol=0):
        return "gradients are overwritten on every backward call"
    return None


def _build(target: Any, convention: str, case: Case, tensors: Tensors) -> Any:
    """A fresh instance for the case; init callbacks, where taken, hand it the case's weights."""
    spec, params = case.spec, _init_params(target)
    if convention == "seed":  # the notebook's positional (in, out, K, stride)
        args = (spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride)
        kwargs, taken = {}, {"in_channels", "out_channels", "kernel_size", "stride"}
    else:
        args = ()
        kwargs, taken = _arguments(params, case)
        missing = {"in_channels", "out_channels", "kernel_size"} - taken
        if missing:
            raise Unusable(
                f"cannot tell which constructor parameters are {', '.join(sorted(missing))} "
                f"(it takes {', '.join(params)}); try --convention"
            )
    _refuse_unsupported(case, taken, "the layer's constructor")
    if "weight_init_fn" in params:
        kwargs["weight_init_fn"] = lambda *shape: tensors["W"].copy()
    if "bias_init_fn" in params:
        kwargs["bias_init_fn"] = lambda *shape: _bias_like(tensors).copy()
    return target(*args, **kwargs)


def _arguments(params: dict[str, inspect.Parameter], case: Case) -> tuple[dict, set[str]]:
    """Our parameters under the names the callee uses, and which of ours it takes."""
    kwargs, taken = {}, set()
    for ours, names in NAMES.items():
        name = next((n for n in names if n in params), None)
        if name is not None:
            kwargs[name], taken = getattr(case.spec, ours), taken | {ours}
    return kwargs, taken


def _refuse_unsupported(case: Case, taken: set[str], who: str) -> None:
    lacking = [
        f"{name}={getattr(case.spec, name)!r}"
        for name, implied in IMPLIED.items()
        if name not in taken and getattr(case.spec, name) != implied
    ]
    if lacking:
        raise Unsupported(f"{who} takes no {', '.join(lacking)}")


def _forward_backward(layer: Any, convention: str, tensors: Tensors) -> Tensors:
    _put_weights(layer, tensors)
    x = tensors["x"].copy()
    y = _forward(layer)(x)
    _confirm_weights(layer, tensors)
    returned = layer.backward(tensors["dy"].copy())
    return {"y": _array(y)} | _gradients(layer, returned, convention, tensors)


def _init_params(target: Any) -> dict[str, inspect.Parameter]:
    try:
        params = dict(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return {}
    params.pop("self", None)
    return params


def _holders(layer: Any) -> list[Any]:
    """The layer, then inner objects that may hold its parameters (mytorch's conv1d_stride1)."""
    inner = [getattr(layer, n) for n in INNER_NAMES if hasattr(layer, n)]
    return [layer] + [obj for obj in inner if hasattr(obj, "__dict__")]


def _places(layer: Any, names: tuple[str, ...]) -> list[tuple[Any, str]]:
    """Every (holder, attribute) among `names` holding an array, or an array in `.data`."""
    return [
        (obj, name)
        for obj in _holders(layer)
        for name in names
        if name in vars(obj) and isinstance(_value(obj, name), np.ndarray)
    ]


def _value(obj: Any, name: str) -> Any:
    """The array behind an attribute, looking through a Parameter-like `.data`."""
    value = getattr(obj, name)
    return value if isinstance(value, np.ndarray) else getattr(value, "data", value)


def _read_weights(layer: Any) -> Tensors:
    """The weights the layer made for itself (for the 'weights did not take effect' diagnosis)."""
    found = {}
    for key, names in (("W", WEIGHT_NAMES), ("b", BIAS_NAMES)):
        places = _places(layer, names)
        if places:
            found[key] = _value(*places[0]).copy()
    return found


def _put_weights(layer: Any, tensors: Tensors) -> None:
    """Set W and b wherever the layer keeps them: every such attribute, inner objects too."""
    weights = {"W": tensors["W"], "b": _bias_like(tensors)}
    for key, names in (("W", WEIGHT_NAMES), ("b", BIAS_NAMES)):
        places = _places(layer, names)
        if not places and key == "W":
            raise Unusable(f"found no weights among the attributes {', '.join(names)}")
        for obj, name in places:
            current = _value(obj, name)
            if current.shape != weights[key].shape:
                raise Unusable(
                    f"{type(obj).__name__}.{name} has shape {current.shape}, "
                    f"expected {weights[key].shape}"
                )
            if isinstance(getattr(obj, name), np.ndarray):
                setattr(obj, name, weights[key].copy())
            else:
                getattr(obj, name).data = weights[key].copy()


def _bias_like(tensors: Tensors) -> np.ndarray:
    return tensors["b"] if "b" in tensors else np.zeros(tensors["W"].shape[0], tensors["W"].dtype)


def _confirm_weights(layer: Any, tensors: Tensors) -> None:
    """Our weights must still be in place after forward (a layer may re-initialise them)."""
    for obj, name in _places(layer, WEIGHT_NAMES):
        if not np.array_equal(_value(obj, name), tensors["W"]):
            raise Unusable(
                f"the weights put into {type(obj).__name__}.{name} changed during forward "
                "(does forward re-initialise them?)"
            )


def _forward(layer: Any):
    if hasattr(layer, "forward"):
        return layer.forward
    if callable(layer):
        return layer
    raise Unusable("the layer has neither forward nor __call__")


def _gradients(layer: Any, returned: Any, convention: str, tensors: Tensors) -> Tensors:
    """dX, dW and db, from what backward returned and from the layer's attributes."""
    found = _named(returned, convention, tensors)
    for key, names in GRAD_NAMES.items():
        if found.get(key) is None:
            found[key] = _grad_attribute(layer, key, names)
    wanted = ("dX", "dW", "db") if "b" in tensors else ("dX", "dW")
    return {key: _array(found[key]) for key in wanted if found.get(key) is not None}


def _named(returned: Any, convention: str, tensors: Tensors) -> dict[str, Any]:
    """Name what backward returned: a lone array is dX; several come in the convention's
    order (seed, functional); a layer's are told apart by their shapes where they differ,
    else taken in the order (dX, dW, db)."""
    items = list(returned) if isinstance(returned, tuple | list) else [returned]
    if len(items) == 1:
        return {"dX": items[0]}
    shapes = {"dX": tensors["x"].shape, "dW": tensors["W"].shape, "db": tensors["W"].shape[:1]}
    by_shape = {k: item for item in items for k, s in shapes.items() if np.shape(item) == s}
    if convention not in RETURN_ORDER and len(by_shape) == len(items):
        return by_shape
    order = RETURN_ORDER.get(convention, ("dX", "dW", "db"))
    if len(items) == len(order) or (len(items) == 2 and order[0] == "dX"):  # (dx, dw): no bias
        return dict(zip(order, items, strict=False))
    return by_shape


def _grad_attribute(layer: Any, key: str, names: tuple[str, ...]) -> Any:
    """A gradient kept as an attribute (dW, dLdW...) or as a Parameter's .grad."""
    for obj in _holders(layer):
        for name in names:
            if getattr(obj, name, None) is not None:
                return getattr(obj, name)
    for obj in _holders(layer):
        for name in WEIGHT_NAMES if key == "dW" else BIAS_NAMES:
            grad = getattr(getattr(obj, name, None), "grad", None)
            if grad is not None:
                return grad
    return None


def _array(value: Any) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise Unusable(f"the layer gave a {type(value).__name__}, not an array of numbers")
    return array


def _run_functional(module: ModuleType, case: Case, tensors: Tensors) -> Tensors:
    """forward(x, w, b, stride, ...) -> (y, cache); backward(dy, cache) -> (dx, dw, db)."""
    forward, backward = _pick(module, "forward"), _pick(module, "backward")
    params = dict(inspect.signature(forward).parameters)
    kwargs, taken = _arguments(params, case)
    _refuse_unsupported(case, taken, f"{forward.__name__}()")
    inputs = {"x": tensors["x"], "W": tensors["W"], "b": _bias_like(tensors)}
    for key, names in (("x", X_NAMES), ("W", WEIGHT_NAMES), ("b", BIAS_NAMES)):
        name = next((n for n in names if n in params and n not in kwargs), None)
        if name is None:
            raise Unusable(f"{forward.__name__}() has no parameter for {key}")
        kwargs[name] = inputs[key].copy()
    returned = forward(**kwargs)
    y, cache = returned if isinstance(returned, tuple) and len(returned) == 2 else (returned, None)
    grads = backward(tensors["dy"].copy(), cache)
    wanted = ("dX", "dW", "db") if "b" in tensors else ("dX", "dW")
    found = _named(grads, "functional", tensors)
    return {"y": _array(y)} | {k: _array(found[k]) for k in wanted if found.get(k) is not None}


def _pick(module: ModuleType, word: str):
    """The module's function `word`, or its one function whose name contains `word`."""
    if inspect.isfunction(getattr(module, word, None)):
        return getattr(module, word)
    found = [v for n, v in vars(module).items() if word in n and inspect.isfunction(v)]
    if len(found) != 1:
        raise Unusable(f"expected one function named like {word!r} in {module.__name__}")
    return found[0]


# ---------------------------------------------------------------- builtin


def run_builtin(case: Case, tensors: Tensors) -> LayerRun:
    """Our Conv1D with the case's weights: forward x, backward dy."""
    layer = Conv1D(*case.spec.arguments(), dtype=case.dtype, rng=0)
    layer.W, layer.b = tensors["W"], tensors.get("b")
    y = layer(tensors["x"])
    db, dW, dX = layer.backward(tensors["dy"])
    outputs = {"y": y, "dX": dX, "dW": dW}
    if db is not None:
        outputs["db"] = db
    return LayerRun(outputs)


def run_layer(case: Case, tensors: Tensors) -> LayerRun:
    """Run the case's implementation on `tensors` (x, W, b, dy)."""
    if case.impl == BUILTIN:
        return run_builtin(case, tensors)
    from .isolation import run_isolated

    return run_isolated(case, tensors)
