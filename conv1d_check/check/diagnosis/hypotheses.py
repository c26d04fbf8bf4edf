"""Likely bugs, as truths: what y, dX, dW and db would be if the layer had the bug.

Each is computed once per failed case, where it changes a tensor that failed (a torch call in
float64 on changed inputs, or a few lines of numpy), and confirmed for a tensor only when the
layer's tensor matches it and the bug changes that tensor at all (`Evidence.explains`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...nn.padding import fold, pad
from ...nn.spec import ConvSpec
from .evidence import Evidence, Tensors
from .finding import Kind


@dataclass(frozen=True)
class Alternative:
    """A bug, as its kind and the names it gives, the tensors it gives (only those it
    defines), and their sums of absolute terms where the bug sums other terms than the truth
    does (None: the same)."""

    kind: Kind
    tensors: Tensors
    abs_sums: Tensors | None = None
    names: tuple[str, ...] = ()


# numpy's names of the padding modes a layer may use by mistake ("symmetric" repeats the edge
# sample, where torch's "reflect" does not; torch has no such mode).
NUMPY_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
    "symmetric": "symmetric",
}


def alternatives(evidence: Evidence, failed: set[str]) -> list[Alternative]:
    """The likely bugs of this case, most specific first; those that change only tensors
    outside `failed` (which then cannot explain anything) are not computed."""
    found = _own_weights(evidence)
    inputs = evidence.inputs64
    W = inputs["W"]
    if evidence.case.kernel_size > 1:  # one tap flipped is the same tap: the truth again
        flipped = evidence.truth_with(W=W[..., ::-1].copy())
        flipped["dW"] = flipped["dW"][..., ::-1]
        found.append(Alternative(Kind.FLIPPED_KERNEL, flipped))
    if evidence.case.stride > 1 and failed & {"dX", "dW"}:
        found.append(
            Alternative(
                Kind.STRIDE_IGNORED,
                stride_one_backward(evidence.case.spec, evidence.inputs64),
                stride_one_backward(
                    evidence.case.spec, {k: np.abs(v) for k, v in evidence.inputs64.items()}
                ),
            )
        )
    found.append(Alternative(Kind.AXES_SWAPPED, {"dW": evidence.truth["dW"].transpose(1, 0, 2)}))
    found.append(Alternative(Kind.DB_AXES, {"db": inputs["dy"].sum(axis=(1, 2))}))
    if "b" in inputs and "y" in failed:
        found.append(
            Alternative(Kind.BIAS_MISSING, {"y": evidence.truth["y"] - inputs["b"][:, None]})
        )
    if "dX" in failed:
        found += _overwrites(evidence.case.spec, inputs)
    found += _padding_modes(evidence.case.spec, inputs)
    return found


def _own_weights(evidence: Evidence) -> list[Alternative]:
    """The layer's own initial weights (with its bias, then without): ours did not take."""
    initial, inputs = evidence.initial, evidence.inputs64
    if "W" not in initial or np.array_equal(initial["W"], evidence.tensors["W"]):
        return []
    own = [{"W": initial["W"].astype(np.float64)}]
    if "b" in inputs and "b" in initial:
        own.insert(0, own[0] | {"b": initial["b"].astype(np.float64)})
    return [Alternative(Kind.OWN_WEIGHTS, evidence.truth_with(**changes)) for changes in own]


def windows(spec: ConvSpec, xp: np.ndarray, l_out: int, step: int) -> np.ndarray:
    """The padded input's windows, `step` apart: (N, G, C_in/G, L_out, K)."""
    n = xp.shape[0]
    view = sliding_window_view(xp, spec.span, axis=2)[:, :, ::step][:, :, :l_out]
    return view[..., :: spec.dilation].reshape(n, spec.groups, spec.in_per_group, l_out, -1)


def _padding_modes(spec: ConvSpec, inputs: Tensors) -> list[Alternative]:
    """y, dX and dW of a layer that pads in each other mode than the case's (symmetric too)."""
    left, right = spec.pads
    if not left + right:
        return []
    x, W, b, dy = inputs["x"], inputs["W"], inputs.get("b"), inputs["dy"]
    (n, c, length), l_out = x.shape, dy.shape[2]
    g, og, ig = spec.groups, spec.out_per_group, spec.in_per_group
    Wg, dy_g = W.reshape(g, og, ig, -1), dy.reshape(n, g, og, l_out)
    found = []
    for mode, numpy_mode in NUMPY_MODES.items():
        if mode == spec.padding_mode:
            continue
        # which sample each padded place copies (length: a zero), and so where its gradient goes
        fill = {"constant_values": length} if numpy_mode == "constant" else {}
        source = np.pad(np.arange(length), (left, right), mode=numpy_mode, **fill)
        xp = np.concatenate([x, np.zeros((n, c, 1))], axis=2)[..., source]
        cols = windows(spec, xp, l_out, spec.stride)
        y = np.einsum("gock,ngctk->ngot", Wg, cols, optimize=True).reshape(n, -1, l_out)
        dW = np.einsum("ngot,ngctk->gock", dy_g, cols, optimize=True).reshape(W.shape)
        dcols = np.einsum("gock,ngot->ngctk", Wg, dy_g, optimize=True).reshape(n, c, l_out, -1)
        dxp = np.zeros(xp.shape)
        last = spec.stride * (l_out - 1) + 1
        for k in range(spec.kernel_size):
            start = k * spec.dilation
            dxp[..., start : start + last : spec.stride] += dcols[..., k]
        dX = np.zeros((n, c, length + 1))
        np.add.at(dX, (slice(None), slice(None), source), dxp)
        tensors = {"y": y + (0 if b is None else b[:, None]), "dX": dX[..., :length], "dW": dW}
        found.append(Alternative(Kind.PADDING_MODE, tensors, names=(mode,)))
    return found


def _overwrites(spec: ConvSpec, inputs: Tensors) -> list[Alternative]:
    """dX of a backward that writes each window's contribution with = instead of +=: the last
    write wins, window after window (names "windows") or tap after tap ("taps")."""
    x, W, dy = inputs["x"], inputs["W"], inputs["dy"]
    if spec.span <= spec.stride or dy.shape[2] < 2:
        return []  # no two windows overlap: = and += are one
    left, right = spec.pads
    g, og, ig = spec.groups, spec.out_per_group, spec.in_per_group
    n, l_out, k_size = x.shape[0], dy.shape[2], spec.kernel_size
    dy_g = dy.reshape(n, g, og, l_out)
    dcols = np.einsum("gock,ngot->ngctk", W.reshape(g, og, ig, -1), dy_g, optimize=True)
    dcols = dcols.reshape(n, -1, l_out, k_size)
    positions = np.arange(l_out)[:, None] * spec.stride + np.arange(k_size) * spec.dilation
    flat = dcols.reshape(n, -1, l_out * k_size)
    found = []
    for order, rank in (
        ("windows", np.arange(l_out * k_size).reshape(l_out, k_size)),
        ("taps", np.arange(l_out * k_size).reshape(k_size, l_out).T),
    ):
        last = np.full(left + x.shape[2] + right, -1)
        np.maximum.at(last, positions.ravel(), rank.ravel())  # the last write to each place
        pair = np.argsort(rank.ravel())[last]  # that write's (t, k), flattened
        dxp = np.where(last >= 0, flat[..., pair], 0.0)
        dX = fold(dxp, left, right, spec.padding_mode)
        found.append(Alternative(Kind.OVERLAP_OVERWRITE, {"dX": dX}, names=(order,)))
    return found


def stride_one_backward(spec: ConvSpec, inputs: Tensors) -> Tensors:
    """dX and dW of a backward that places output position t at t + k·dilation, not
    t·stride + k·dilation (the forward is right; only the scatter forgets the stride)."""
    x, W, dy = inputs["x"], inputs["W"], inputs["dy"]
    n, l_out = x.shape[0], dy.shape[2]
    left, right = spec.pads
    xp = pad(x, left, right, spec.padding_mode)
    g, og, ig = spec.groups, spec.out_per_group, spec.in_per_group
    cols = windows(spec, xp, l_out, 1)
    dy_g = dy.reshape(n, g, og, l_out)
    dW = np.einsum("ngot,ngctk->gock", dy_g, cols, optimize=True).reshape(W.shape)
    dcols = np.einsum("gock,ngot->ngctk", W.reshape(g, og, ig, -1), dy_g, optimize=True)
    dxp = np.zeros_like(xp)
    for k in range(spec.kernel_size):
        start = k * spec.dilation
        dxp[..., start : start + l_out] += dcols[..., k].reshape(n, -1, l_out)
    return {"dX": fold(dxp, left, right, spec.padding_mode), "dW": dW}
