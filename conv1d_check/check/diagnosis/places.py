"""Where a failing tensor is wrong: near the edges, or in some channels, positions or taps
only; and the strips that show it."""

from __future__ import annotations

import numpy as np

from .evidence import Evidence
from .finding import Finding, Kind
from .samples import ranges

AXES = {
    "y": ("sample", "channel", "position"),
    "dX": ("sample", "channel", "position"),
    "dW": ("out channel", "in channel", "tap"),
    "db": ("channel",),
}
STRIP_WIDTH = 60


def edge_clue(evidence: Evidence, name: str) -> list[Finding]:
    """Mismatches of y or dX confined to the edges: within the padding's and a window's reach
    of either end. Names the positions too, so that a short case whose every position is near
    an edge (and so is only "wrong in positions ...") is the same finding."""
    if name not in ("y", "dX"):
        return []
    positions = evidence.wrong(name).any(axis=(0, 1))
    if not positions.any():
        return []
    spec, length = evidence.case.spec, positions.size
    edge = min(spec.span + max(spec.pads), length // 2)  # what a padding or window bug reaches
    middle = np.zeros(length, bool)
    middle[edge : length - edge] = True
    if (positions & middle).any() or not middle.any():
        return []
    where = {"wrong": ranges([int(i) for i in np.flatnonzero(positions)]), "of": length}
    return [Finding(name, Kind.PLACES, ("position", "edges"), {"within": edge, "position": where})]


def subset_clue(evidence: Evidence, name: str) -> list[Finding]:
    """Mismatches confined to some channels, positions or taps (samples: see samples.py)."""
    wrong = evidence.wrong(name)
    where = {}
    for axis, label in enumerate(AXES[name]):
        if label == "sample":
            continue
        marks = wrong.any(axis=tuple(i for i in range(wrong.ndim) if i != axis))
        bad = [int(i) for i in np.flatnonzero(marks)]
        if bad and len(bad) < marks.size:
            where[label] = {"wrong": ranges(bad), "of": int(marks.size)}
    return [Finding(name, Kind.PLACES, tuple(where), where)] if where else []


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
