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
from .finding import Finding, Kind

# Significant bits p (unit roundoff 2⁻ᵖ) of the formats a layer may compute in.
FORMATS = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}
# A format is named when the measured bits are within this many of its own: the largest
# normalised error of a correct layer lies within a factor of 2² of u either way.
BITS_TOLERANCE = 2
# Below this many bits the errors are a bug's, not a precision's.
FEWEST_BITS = 6
# Rounding touches nearly every element; a bug confined to some does not look like it.
ROUNDED_SHARE = 0.25
# A narrower format's rounding is beyond the checked format's allowance on most elements (its u
# is 2⁹ to 2⁴⁵ times larger); a wrong tap, edge or element is beyond it on a few.
WRONG_SHARE = 0.5
# Values that are all a narrower format's numbers by chance: at odds below 2⁻²⁰, none.
CHANCE_BITS = 20


def stored_clue(evidence: Evidence, name: str) -> list[Finding]:
    """The values are all numbers of a narrower format, and right to its precision: decisive,
    as a bug's values are not all float16 numbers."""
    checked = FORMATS[evidence.case.dtype]
    actual = evidence.outputs[name].astype(np.float64)
    wider = dict(zip(FORMATS, list(FORMATS.values())[1:], strict=False))
    for fmt, bits in FORMATS.items():
        # a value of the next wider format is one of fmt's by chance with odds 2^-(its bits -
        # bits): decisive when the tensor's nonzero values make that chance below 2^-CHANCE_BITS
        if bits >= checked:
            break
        chance_bits = np.count_nonzero(actual) * (wider[fmt] - bits)
        if chance_bits >= CHANCE_BITS and _representable(actual, fmt):
            fit = _fit(evidence, name, bits)
            if fit <= SLACK:
                return [Finding(name, Kind.PRECISION, (fmt,), {"values": fmt, "bits": bits}, fit)]
    return []


def computed_clue(evidence: Evidence, name: str) -> list[Finding]:
    """Errors on most elements, at the scale of a narrower format's rounding: computed in it.
    A bug confined to some elements leaves the others at the checked format's rounding."""
    checked = FORMATS[evidence.case.dtype]
    if evidence.wrong(name).mean() < WRONG_SHARE:
        return []
    bits = _effective_bits(evidence, name)
    if bits is None or bits >= checked - BITS_TOLERANCE:
        return []
    for fmt, p in FORMATS.items():
        if abs(bits - p) <= BITS_TOLERANCE and (fit := _fit(evidence, name, p)) <= SLACK:
            return [Finding(name, Kind.PRECISION, (fmt,), {"bits": round(bits, 1)}, fit)]
    return []


def _representable(values: np.ndarray, fmt: str) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        if fmt == "bfloat16":  # a float32 whose low 16 bits are zero
            as32 = values.astype(np.float32)
            return bool(np.all(as32 == values) and not np.any(as32.view(np.uint32) & 0xFFFF))
        return bool(np.all(values.astype(fmt).astype(np.float64) == values))


def _fit(evidence: Evidence, name: str, bits: int) -> float:
    """The worst error over the allowance of a layer computing with 2⁻ᵇⁱᵗˢ."""
    sums = evidence.oracle.sums(name, evidence.counts[name])
    allowed = rounding_bounds(sums, 2.0**-bits)[0]
    with np.errstate(invalid="ignore"):
        error = np.abs(evidence.outputs[name] - evidence.truth[name])
    return float(np.nan_to_num(error / (allowed + 1e-300), nan=np.inf).max(initial=0.0))


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
