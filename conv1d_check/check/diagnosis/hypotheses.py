"""Likely bugs, as truths: what y, dX, dW and db would be if the layer had the bug.

Each is computed once per failed case (a torch call in float64 on changed inputs, or a few
lines of numpy), and confirmed for a tensor only when the layer's tensor matches it and the
bug changes that tensor at all (`Evidence.explains`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...nn.padding import fold, pad
from ...nn.spec import ConvSpec
from .evidence import Evidence, Tensors


@dataclass(frozen=True)
class Alternative:
    """A bug, in words, the tensors it gives (only those it defines), and their sums of
    absolute terms where the bug sums other terms than the truth does (None: the same)."""

    description: str
    tensors: Tensors
    abs_sums: Tensors | None = None


def alternatives(evidence: Evidence) -> list[Alternative]:
    """The likely bugs of this case, most specific first."""
    found = _own_weights(evidence)
    inputs = evidence.inputs64
    W = inputs["W"]
    flipped = evidence.truth_with(W=W[..., ::-1].copy())
    flipped["dW"] = flipped["dW"][..., ::-1]
    found.append(
        Alternative(
            "matches a convolution with the kernel flipped: torch's Conv1d is a "
            "cross-correlation (W[o, c, k] meets x[t·stride + k], not x[t·stride + K−1−k])",
            flipped,
        )
    )
    if evidence.case.stride > 1:
        found.append(
            Alternative(
                "matches a backward that ignores the stride (each output position's gradient "
                "scattered as if stride were 1)",
                _stride_one_backward(evidence.case.spec, evidence.inputs64),
                _stride_one_backward(
                    evidence.case.spec, {k: np.abs(v) for k, v in evidence.inputs64.items()}
                ),
            )
        )
    found.append(
        Alternative("C_out and C_in axes swapped", {"dW": evidence.truth["dW"].transpose(1, 0, 2)})
    )
    found.append(
        Alternative(
            "the sum of dy over the channels and positions (axes 1 and 2): db sums over the "
            "batch and the positions (axes 0 and 2), one value per output channel",
            {"db": inputs["dy"].sum(axis=(1, 2))},
        )
    )
    if "b" in inputs:
        found.append(
            Alternative(
                "the bias is missing from y", {"y": evidence.truth["y"] - inputs["b"][:, None]}
            )
        )
    return found


def _own_weights(evidence: Evidence) -> list[Alternative]:
    """The layer's own initial weights (with its bias, then without): ours did not take."""
    initial, inputs = evidence.initial, evidence.inputs64
    if "W" not in initial or np.array_equal(initial["W"], evidence.tensors["W"]):
        return []
    own = [{"W": initial["W"].astype(np.float64)}]
    if "b" in inputs and "b" in initial:
        own.insert(0, own[0] | {"b": initial["b"].astype(np.float64)})
    description = (
        "matches the layer's own initial weights: the weights put into it did not take effect "
        "(does it copy W at construction?)"
    )
    return [Alternative(description, evidence.truth_with(**changes)) for changes in own]


def _stride_one_backward(spec: ConvSpec, inputs: Tensors) -> Tensors:
    """dX and dW of a backward that places output position t at t + k·dilation, not
    t·stride + k·dilation (the forward is right; only the scatter forgets the stride)."""
    x, W, dy = inputs["x"], inputs["W"], inputs["dy"]
    n, l_out = x.shape[0], dy.shape[2]
    left, right = spec.pads
    xp = pad(x, left, right, spec.padding_mode)
    g, og, ig = spec.groups, spec.out_per_group, spec.in_per_group
    windows = sliding_window_view(xp, spec.span, axis=2)[:, :, :l_out, :: spec.dilation]
    windows = windows.reshape(n, g, ig, l_out, spec.kernel_size)
    dy_g = dy.reshape(n, g, og, l_out)
    dW = np.einsum("ngot,ngctk->gock", dy_g, windows).reshape(W.shape)
    dcols = np.einsum("gock,ngot->ngctk", W.reshape(g, og, ig, -1), dy_g)
    dxp = np.zeros_like(xp)
    for k in range(spec.kernel_size):
        start = k * spec.dilation
        dxp[..., start : start + l_out] += dcols[..., k].reshape(n, -1, l_out)
    return {"dX": fold(dxp, left, right, spec.padding_mode), "dW": dW}
