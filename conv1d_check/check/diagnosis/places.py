"""Where a failing tensor is wrong: where windows overlap, near the edges, or in some
channels, positions or taps only; and the strips that show it."""

from __future__ import annotations

import numpy as np

from ...nn.padding import fold
from .evidence import Evidence
from .samples import ranges

AXES = {
    "y": ("sample", "channel", "position"),
    "dX": ("sample", "channel", "position"),
    "dW": ("out channel", "in channel", "tap"),
    "db": ("channel",),
}
STRIP_WIDTH = 60


def overlap_or_edge_clue(evidence: Evidence, name: str) -> list[str]:
    """Mismatches of y or dX confined to where windows overlap, or to the edges."""
    if name not in ("y", "dX"):
        return []
    positions = evidence.wrong(name).any(axis=(0, 1))
    if not positions.any():
        return []
    spec, length = evidence.case.spec, positions.size
    if name == "dX" and spec.span > spec.stride:
        overlaps = _window_cover(evidence) >= 2
        # all mismatches where windows overlap, and at least half of those places wrong
        if not (positions & ~overlaps).any() and positions.sum() * 2 >= overlaps.sum():
            return [
                "errors only where windows overlap: overlapping contributions overwrite "
                "each other instead of adding up (= where += is needed)"
            ]
    edge = min(spec.span + max(spec.pads), length // 2)  # what a padding or window bug reaches
    middle = np.zeros(length, bool)
    middle[edge : length - edge] = True
    if not (positions & middle).any() and middle.any():
        return [
            f"errors only near the edges (within {edge} positions of either end): look at "
            "the padding, or at the first and last windows"
        ]
    return []


def subset_clue(evidence: Evidence, name: str) -> list[str]:
    """Mismatches confined to some channels, positions or taps (samples: see samples.py)."""
    wrong = evidence.wrong(name)
    parts = []
    for axis, label in enumerate(AXES[name]):
        if label == "sample":
            continue
        marks = wrong.any(axis=tuple(i for i in range(wrong.ndim) if i != axis))
        bad = [int(i) for i in np.flatnonzero(marks)]
        if bad and len(bad) < marks.size:
            parts.append(f"{label}{'s' if len(bad) > 1 else ''} {ranges(bad)} of {marks.size}")
    return [f"wrong only in {' and '.join(parts)}"] if parts else []


def _window_cover(evidence: Evidence) -> np.ndarray:
    """How many (window, tap) pairs read each input position: (L,)."""
    spec, case = evidence.case.spec, evidence.case
    left, right = spec.pads
    cover = np.zeros((1, 1, left + case.length + right))
    last = spec.stride * (case.output_length - 1) + 1
    for k in range(spec.kernel_size):
        cover[..., k * spec.dilation : k * spec.dilation + last : spec.stride] += 1
    return fold(cover, left, right, spec.padding_mode)[0, 0]


def strips(evidence: Evidence, name: str) -> dict[str, str]:
    """Where a tensor's mismatches are, one character per position, channel or sample.

    'x' marks a place with a mismatch, '.' one without; long axes are binned.
    """
    actual, expected = evidence.outputs[name], evidence.truth[name]
    if actual.shape != expected.shape or actual.ndim == 0:
        return {}
    bad = evidence.wrong(name)
    found = {}
    for axis, label in enumerate(AXES[name]):
        others = tuple(i for i in range(bad.ndim) if i != axis)
        found[label] = _strip(bad.any(axis=others) if others else bad)
    return found


def _strip(marks: np.ndarray) -> str:
    """A row of marks, binned to at most STRIP_WIDTH characters ('x' if any in a bin)."""
    bins = -(-marks.size // STRIP_WIDTH)
    padded = np.zeros(-(-marks.size // bins) * bins, bool)
    padded[: marks.size] = marks
    return "".join("x" if b else "." for b in padded.reshape(-1, bins).any(axis=1))
