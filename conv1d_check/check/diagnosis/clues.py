"""What a failure looks like: the assert_close-style explanation, the diagnosis, the map.

Every diagnosis is worked out from the numbers: the failing tensor is compared
with the float64 truth and with the truth of a few likely bugs (the kernel
flipped, the stride ignored in backward, one sample only, the layer's own
initial weights...), recomputed by torch in float64 from the same tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..nn.padding import fold, pad
from . import torch_side
from .case import Case
from .tolerance import TensorError, Tolerance, term_counts
from .torch_side import Truth

Tensors = dict[str, np.ndarray]
STRIP_WIDTH = 60


def explain(name: str, error: TensorError, tolerance: Tolerance) -> str:
    """A failing tensor in the spirit of torch.testing.assert_close's message."""
    share = 100 * error.mismatched / error.total
    return (
        f"{name}: {error.mismatched} / {error.total} elements ({share:.1f}%) exceed the allowed "
        f"error ({tolerance.describe()}).\n"
        f"  Worst at index {tuple(error.worst_index)}: layer {error.worst_actual:.10g}, "
        f"reference {error.worst_expected:.10g}, allowed {error.allowed:.3g}.\n"
        f"  Greatest absolute difference {error.max_abs:.3g}, "
        f"greatest relative difference {error.max_rel:.3g}."
    )


@dataclass
class Evidence:
    """A failed case's numbers: the inputs, the layer's outputs and the float64 truth."""

    case: Case
    tensors: Tensors  # x, W, b (with bias), dy as the layer got them
    outputs: Tensors  # the layer's y, dX, dW, db
    oracle: Truth  # the float64 truth and the sums that bound its rounding
    initial: Tensors  # the weights the layer built for itself, if known

    @property
    def truth(self) -> Tensors:
        return self.oracle.values

    @cached_property
    def inputs64(self) -> Tensors:
        return {k: v.astype(np.float64) for k, v in self.tensors.items()}

    def allowed(self, name: str, dtype: str | None = None) -> np.ndarray:
        """The rounding bound of `name`'s elements, in the case's dtype or another."""
        counts = term_counts(self.case.spec, self.case.batch, self.case.length)
        sums = self.oracle.sums(name, counts[name])
        return Tolerance().allowance(sums, dtype or self.case.dtype).allowed

    def matches(self, name: str, candidate: np.ndarray | None, slack: float = 4) -> bool:
        """The layer's `name` equals `candidate` within `slack` times the rounding bound."""
        return _within(self.outputs[name], candidate, slack * self.allowed(name))

    def differs(self, name: str, candidate: np.ndarray | None) -> bool:
        """`candidate` is not just the truth again: a bug that changes tensor `name`."""
        return not _within(self.truth[name], candidate, 4 * self.allowed(name))

    def truth_with(self, **changes: np.ndarray) -> Tensors:
        """The float64 truth for modified inputs (x, W, b, dy)."""
        inputs = self.inputs64 | changes
        return torch_side.conv1d(
            self.case.spec, inputs["x"], inputs["W"], inputs.get("b"), inputs["dy"]
        )


def _within(actual: np.ndarray, candidate: np.ndarray | None, allowed: np.ndarray) -> bool:
    if candidate is None or candidate.shape != actual.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(actual - candidate) <= allowed + 1e-300))


def diagnose(evidence: Evidence, failed: list[str]) -> list[str]:
    """Plain-words guesses at what is wrong with each failing tensor."""
    notes = []
    for name in failed:
        actual, expected = evidence.outputs.get(name), evidence.truth[name]
        if actual is None:
            continue
        if actual.shape != expected.shape:
            found = _shape_clues(evidence, name, actual.shape)
        else:
            found = _value_clues(evidence, name)
        notes += [f"{name}: {note}" for note in found]
    return notes


def _shape_clues(evidence: Evidence, name: str, shape: tuple[int, ...]) -> list[str]:
    expected = evidence.truth[name].shape
    case = evidence.case
    other = next((n for n, t in evidence.truth.items() if n != name and t.shape == shape), None)
    if other and name != "y":
        return [
            f"has the shape of {other} {shape}: backward's results in another order? "
            "seed returns (db, dW, dX), functional (dx, dw, db)"
        ]
    if sorted(shape) == sorted(expected) and len(shape) == len(expected):
        swapped = [i for i, (a, b) in enumerate(zip(shape, expected, strict=True)) if a != b]
        return [f"shape {shape} is {expected} with axes {swapped} swapped"]
    if name == "y" and shape[:-1] == expected[:-1]:
        return [
            f"{shape[-1]} output position{'s' if shape[-1] != 1 else ''} instead of "
            f"{expected[-1]}: torch's L_out is "
            "(L + 2·padding − dilation·(K − 1) − 1) // stride + 1 = "
            f"({case.length} + {sum(case.spec.pads)} − {case.dilation}·{case.kernel_size - 1}"
            f" − 1) // {case.stride} + 1"
        ]
    if name == "db":
        return [
            f"db has shape {shape}: it is the sum of dy over the batch and the positions "
            f"(axes 0 and 2), one value per output channel"
        ]
    return []


def _value_clues(evidence: Evidence, name: str) -> list[str]:
    actual, expected = evidence.outputs[name], evidence.truth[name]
    if not np.all(np.isfinite(actual)):
        return [_nonfinite(actual)]
    if not actual.any() and expected.any():
        return ["all zeros: never computed"]
    for clue in (_dtype, _scaled, _alternatives, _precision, _places):
        found = clue(evidence, name)
        if found:
            return found
    return _normwise(evidence, name)


def _nonfinite(actual: np.ndarray) -> str:
    bad = ~np.isfinite(actual)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    kinds = [k for k, mask in (("NaN", np.isnan(actual)), ("inf", np.isinf(actual))) if mask.any()]
    return f"{' and '.join(kinds)} in {int(bad.sum())} of {actual.size} elements, first at {first}"


def _dtype(evidence: Evidence, name: str) -> list[str]:
    """A tensor in another dtype than the input's, and what its values say about it."""
    actual, dtype = evidence.outputs[name], np.dtype(evidence.case.dtype)
    if actual.dtype == dtype:
        return []
    if evidence.matches(name, evidence.truth[name], slack=1):
        return [
            f"the values are right but the dtype is {actual.dtype}: torch keeps the input's "
            f"{dtype} (allocate with the input's dtype, e.g. np.zeros(shape, dtype=x.dtype))"
        ]
    if actual.dtype == np.float32:
        return [f"returned as float32 in a {dtype} check: it is computed or stored in float32"]
    return []


def _scaled(evidence: Evidence, name: str) -> list[str]:
    """A constant ratio to the truth: 1/N is a batch mean where torch sums."""
    actual, expected = evidence.outputs[name], evidence.truth[name]
    if not expected.any():
        return []
    ratio = float(np.vdot(actual, expected) / np.vdot(expected, expected))
    if not evidence.matches(name, ratio * expected) or np.isclose(ratio, 1):
        return []
    batch = evidence.case.batch
    if batch > 1 and np.isclose(ratio, 1 / batch, rtol=1e-6):
        return [f"exactly 1/N = 1/{batch} of the truth: averaged over the batch instead of summed"]
    if np.isclose(ratio, -1, rtol=1e-6):
        return ["the truth with its sign flipped"]
    return [f"a constant {ratio:.6g} times the truth: a scaling bug"]


def _alternatives(evidence: Evidence, name: str) -> list[str]:
    """The truth of a likely bug that the layer's numbers match."""
    for describe, candidate in _hypotheses(evidence, name):
        if evidence.differs(name, candidate) and evidence.matches(name, candidate):
            return [describe]
    return []


def _hypotheses(evidence: Evidence, name: str):
    """(description, what the tensor would be with that bug), most specific first."""
    case, inputs = evidence.case, evidence.inputs64
    W = inputs["W"]
    initial = evidence.initial.get("W")
    if initial is not None and initial.shape == W.shape and not np.array_equal(initial, W):
        own_W = {"W": initial.astype(np.float64)}
        own_b = {}
        if "b" in inputs and np.shape(evidence.initial.get("b")) == inputs["b"].shape:
            own_b = {"b": evidence.initial["b"].astype(np.float64)}
        for own in ({**own_W, **own_b}, own_W):
            yield (
                "matches the layer's own initial weights: the weights put into it did not "
                "take effect (does it copy W at construction?)",
                evidence.truth_with(**own).get(name),
            )
    flipped = evidence.truth_with(W=W[..., ::-1].copy())
    if "dW" in flipped:
        flipped["dW"] = flipped["dW"][..., ::-1]
    yield (
        "matches a convolution with the kernel flipped: torch's Conv1d is a cross-correlation "
        "(W[o, c, k] meets x[t·stride + k], not x[t·stride + K−1−k])",
        flipped.get(name),
    )
    if name == "dW" and W.shape[0] == W.shape[1]:
        yield "C_out and C_in axes swapped", evidence.truth["dW"].transpose(1, 0, 2)
    if name == "db":
        yield (
            "the sum of dy over the channels and positions (axes 1 and 2): db sums over the "
            "batch and the positions (axes 0 and 2), one value per output channel",
            inputs["dy"].sum(axis=(1, 2)),
        )
    if name == "y" and "b" in inputs:
        yield "the bias is missing from y", evidence.truth["y"] - inputs["b"][:, None]
    if case.batch > 1 and name in ("dW", "db"):
        dy = inputs["dy"].copy()
        dy[1:] = 0
        yield (
            "matches sample 0 alone: the loop over the batch is missing",
            (evidence.truth_with(dy=dy).get(name)),
        )
    if case.stride > 1 and name in ("dX", "dW"):
        yield (
            "matches a backward that ignores the stride (each output position's gradient "
            "scattered as if stride were 1)",
            _stride_one_backward(evidence)[name],
        )


def _stride_one_backward(evidence: Evidence) -> Tensors:
    """dX and dW of a backward that places output position t at t + k·dilation, not
    t·stride + k·dilation (the forward is right; only the scatter forgets the stride)."""
    spec, inputs = evidence.case.spec, evidence.inputs64
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


def _precision(evidence: Evidence, name: str) -> list[str]:
    """Right to float32's rounding but not float64's: it computes in float32."""
    if evidence.case.dtype != "float64":
        return []
    actual, expected = evidence.outputs[name], evidence.truth[name]
    if np.all(np.abs(actual - expected) <= evidence.allowed(name, "float32")):
        return ["right only to float32 precision: something computes in float32"]
    return []


def _places(evidence: Evidence, name: str) -> list[str]:
    """Mismatches confined to one place: the samples after the first, where windows overlap,
    or the edges."""
    if name not in ("y", "dX"):
        return []
    bad = np.abs(evidence.outputs[name] - evidence.truth[name]) > evidence.allowed(name)
    positions = bad.any(axis=(0, 1))
    if not positions.any():
        return []
    samples = bad.any(axis=(1, 2))
    if not samples[0] and samples[1:].all():
        return ["right for sample 0 only: the loop over the batch stops after the first sample"]
    spec, length = evidence.case.spec, positions.size
    if name == "dX" and spec.span > spec.stride:
        overlaps = _window_cover(evidence) >= 2
        if not (positions & ~overlaps).any() and positions.sum() * 2 >= overlaps.sum():
            return [
                "errors only where windows overlap: overlapping contributions overwrite "
                "each other instead of adding up (= where += is needed)"
            ]
    edge = min(spec.span + max(spec.pads), length // 2)
    middle = np.zeros(length, bool)
    middle[edge : length - edge] = True
    if not (positions & middle).any() and middle.any():
        return [
            f"errors only near the edges (within {edge} positions of either end): look at "
            "the padding, or at the first and last windows"
        ]
    return []


def _window_cover(evidence: Evidence) -> np.ndarray:
    """How many (window, tap) pairs read each input position: (L,)."""
    spec, case = evidence.case.spec, evidence.case
    left, right = spec.pads
    cover = np.zeros((1, 1, left + case.length + right))
    last = spec.stride * (case.output_length - 1) + 1
    for k in range(spec.kernel_size):
        cover[..., k * spec.dilation : k * spec.dilation + last : spec.stride] += 1
    return fold(cover, left, right, spec.padding_mode)[0, 0]


def _normwise(evidence: Evidence, name: str) -> list[str]:
    """A tiny error next to the tensor's size: another algorithm (FFT, Winograd), not a bug."""
    actual, expected = evidence.outputs[name], evidence.truth[name]
    scale = float(np.abs(expected).max())
    worst = float(np.abs(actual - expected).max())
    u = np.finfo(evidence.case.dtype).eps
    if not (scale > 0 and worst <= 32 * u * scale):
        return []
    return [
        f"the error ({worst:.2g}) is tiny next to the tensor's size ({scale:.2g}): norm-wise "
        "rounding, as from an FFT or Winograd algorithm, rather than a bug; --atol/--rtol "
        "accept it"
    ]


def strips(evidence: Evidence, name: str) -> dict[str, str]:
    """Where a tensor's mismatches are, one character per position, channel or sample.

    'x' marks a place with a mismatch, '.' one without; long axes are binned.
    """
    actual, expected = evidence.outputs[name], evidence.truth[name]
    if actual.shape != expected.shape or actual.ndim == 0:
        return {}
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.abs(actual - expected) <= evidence.allowed(name))
    axes = {
        "y": ("sample", "channel", "position"),
        "dX": ("sample", "channel", "position"),
        "dW": ("out channel", "in channel", "tap"),
        "db": ("channel",),
    }[name]
    found = {}
    for axis, label in enumerate(axes):
        others = tuple(i for i in range(bad.ndim) if i != axis)
        found[label] = _strip(bad.any(axis=others) if others else bad)
    return found


def _strip(marks: np.ndarray) -> str:
    """A row of marks, binned to at most STRIP_WIDTH characters ('x' if any in a bin)."""
    bins = -(-marks.size // STRIP_WIDTH)
    padded = np.zeros(-(-marks.size // bins) * bins, bool)
    padded[: marks.size] = marks
    return "".join("x" if b else "." for b in padded.reshape(-1, bins).any(axis=1))
