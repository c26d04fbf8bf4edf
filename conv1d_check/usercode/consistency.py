"""A second opinion that needs no torch: is the layer's backward the gradient of its own
forward?

A convolution is affine in x, in W and in b, so for any direction the central difference of
its forward is exact: <dy, f(x + v) − f(x − v)> = <∇ₓ<dy, f>, (x + v) − (x − v)> whatever the
step, up to rounding (torch.autograd.gradcheck's fast mode checks such random projections).
`measure` runs in the layer's worker and gives the left side for x, W and b; `agreement`, in the
tool, sets it against the layer's own dX, dW and db.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..nn.spec import ConvSpec
from .conventions import CONVENTIONS
from .layout import TORCH, parse
from .protocol import Tensors

SEED = 20_240_229  # of the directions: fixed, so that both sides draw the same
STEP = 0.5  # of the directions, relative to each tensor's spread
# Rounding allows a relative disagreement of about √n·u; a gradient that is not the forward's
# disagrees by a share of the whole (a wrong stride, a missing sample: 10⁻² to 1). The floor
# keeps a layer that computes in float32 inside a float64 check (a bug diagnosed on its own)
# from being called inconsistent too.
SLACK, FLOOR = 64, 1e-4

INPUT_OF = {"dX": "x", "dW": "W", "db": "b"}


def perturbed(tensors: Tensors) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For x, W and b: (tensor + v, tensor − v) in the tensor's dtype, v a random direction."""
    rng = np.random.default_rng(SEED)
    found = {}
    for key in ("x", "W", "b"):
        if key in tensors and tensors[key].size:
            t = tensors[key]
            v = STEP * (float(np.std(t)) or 1.0) * rng.standard_normal(t.shape)
            found[key] = ((t + v).astype(t.dtype), (t - v).astype(t.dtype))
    return found


def measure(
    target: Any, convention: str, spec: ConvSpec, tensors: Tensors, layout: str | None = None
) -> dict:
    """In the worker: for each input, <dy, f(+) − f(−)> and the sum of its terms' magnitudes,
    the layer taking its tensors in `layout` (None: torch's)."""
    layout_ = TORCH if layout is None else parse(layout)
    forward = CONVENTIONS[convention].forward_function(target, spec, tensors, layout_)
    dy = tensors["dy"].astype(np.float64)
    base = {"x": tensors["x"], "W": tensors["W"], "b": tensors.get("b")}
    if base["b"] is None:
        base["b"] = np.zeros(tensors["W"].shape[0], tensors["W"].dtype)
    found = {}
    for key, (plus, minus) in perturbed(tensors).items():
        plus_y, minus_y = (forward(**(base | {key: v})).astype(np.float64) for v in (plus, minus))
        difference = plus_y - minus_y
        terms = dy * difference
        found[key] = (float(terms.sum()), float(np.abs(terms).sum()), terms.size)
    return found


def agreement(
    measured: dict, gradients: Tensors, tensors: Tensors
) -> dict[str, tuple[bool, float, float]]:
    """In the tool: for each gradient the layer gave, whether it is its forward's by `measure`,
    the measured disagreement and the resolution, both as shares of the terms' scale."""
    u = float(np.finfo(tensors["x"].dtype).eps) / 2
    directions = perturbed(tensors)
    found = {}
    for name, key in INPUT_OF.items():
        if key not in measured or gradients.get(name) is None:
            continue
        plus, minus = directions[key]
        step = plus.astype(np.float64) - minus.astype(np.float64)
        gradient = np.asarray(gradients[name], dtype=np.float64)
        if gradient.shape != step.shape or not np.all(np.isfinite(gradient)):
            continue
        theirs = gradient * step
        difference, magnitude, count = measured[key]
        if not np.isfinite(magnitude):  # the forward gives NaN or inf: no opinion
            continue
        scale = magnitude + float(np.abs(theirs).sum())
        resolution = max(SLACK * np.sqrt(count + theirs.size) * u, FLOOR)
        disagreement = abs(difference - float(theirs.sum())) / scale if scale else 0.0
        found[name] = (bool(disagreement <= resolution), float(disagreement), float(resolution))
    return found
