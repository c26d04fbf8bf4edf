"""The precision a failing tensor was really computed in, measured from its values and its
errors: a float64 check of a layer that computes in float32, float16 or bfloat16.

Two measurements. Its values may all be numbers of a narrower format (the layer stored them
in it). Otherwise its errors, divided by the √n·u·scale of each element (the pass rule's own
measure), give the effective unit roundoff of a layer computing in that precision: a
correct sum's normalised error stays within a factor of a few of u (docs/design.md §3).
"""

from __future__ import annotations

import numpy as np

from ..tolerance import rounding_bounds
from .evidence import SLACK, Evidence

# Significant bits p (unit roundoff 2⁻ᵖ) of the formats a layer may compute in.
FORMATS = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}
# A format is named when the measured bits are within this many of its own: the largest
# normalised error of a correct layer lies within a factor of 2² of u either way.
BITS_TOLERANCE = 2
# Below this many bits the errors are a bug's, not a precision's.
FEWEST_BITS = 6
# Rounding touches nearly every element; a bug confined to some does not look like it.
ROUNDED_SHARE = 0.25


def precision_clue(evidence: Evidence, name: str) -> list[str]:
    checked = FORMATS[evidence.case.dtype]
    actual = evidence.outputs[name].astype(np.float64)
    for fmt, bits in FORMATS.items():
        if bits < checked and _representable(actual, fmt) and _within(evidence, name, bits):
            return [
                f"right only to {fmt} precision: its values are {fmt} numbers ({bits} "
                f"significant bits), so something stores or computes it in {fmt}"
            ]
    bits = _effective_bits(evidence, name)
    if bits is None or bits >= checked - BITS_TOLERANCE:
        return []
    for fmt, p in FORMATS.items():
        if abs(bits - p) <= BITS_TOLERANCE:
            return [
                f"right only to {fmt} precision (about {bits:.0f} significant bits): "
                f"something computes in {fmt}"
            ]
    return [f"right to about {bits:.0f} significant bits only: it computes in a low precision"]


def _representable(values: np.ndarray, fmt: str) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        if fmt == "bfloat16":  # a float32 whose low 16 bits are zero
            as32 = values.astype(np.float32)
            return bool(np.all(as32 == values) and not np.any(as32.view(np.uint32) & 0xFFFF))
        return bool(np.all(values.astype(fmt).astype(np.float64) == values))


def _within(evidence: Evidence, name: str, bits: int) -> bool:
    sums = evidence.oracle.sums(name, evidence.counts[name])
    allowed = rounding_bounds(sums, 2.0**-bits)[0]
    error = np.abs(evidence.outputs[name] - evidence.truth[name])
    return bool(np.all(error <= SLACK * allowed + 1e-300))


def _effective_bits(evidence: Evidence, name: str) -> float | None:
    """−log₂ of the largest error / (√n·scale): about p for a layer computing with 2⁻ᵖ."""
    sums = evidence.oracle.sums(name, evidence.counts[name])
    error = np.abs(evidence.outputs[name] - evidence.truth[name])
    scale = np.sqrt(max(sums.terms, 1)) * np.maximum(np.abs(sums.value), sums.root_sum_squares)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.where(scale > 0, error / scale, 0.0)
    if np.count_nonzero(normalised) < ROUNDED_SHARE * normalised.size or not normalised.max():
        return None
    bits = -float(np.log2(normalised.max()))
    return bits if bits >= FEWEST_BITS else None
