"""Clues read off one failing tensor: its shape, NaN and inf, zeros, its dtype, a constant
factor (and the parameters that give it), and an error too small to be a bug."""

from __future__ import annotations

import numpy as np

from .evidence import Evidence
from .finding import Finding, Kind

# A fitted factor is named after a parameter when it equals it to this relative precision: the
# least-squares ratio of two tensors that differ by rounding only is exact to about u.
FACTOR_TOLERANCE = 1e-5
# "Tiny next to the tensor": within this many ulps of its largest element, as an FFT's or a
# Winograd algorithm's norm-wise error is, where an element-wise bound is too strict.
NORMWISE_ULPS = 32


def shape_clue(evidence: Evidence, name: str, shape: tuple[int, ...]) -> list[Finding]:
    """How a tensor of the wrong shape is wrong: names says which way (evidence the shapes)."""
    expected = evidence.truth[name].shape
    seen = {"shape": list(shape), "expected": list(expected)}
    other = next((n for n, t in evidence.truth.items() if n != name and t.shape == shape), None)
    if other and name != "y":
        return [Finding(name, Kind.SHAPE, ("order",), seen | {"like": other})]
    if len(shape) != len(expected):
        return [Finding(name, Kind.SHAPE, ("axes",), seen)]
    if sorted(shape) == sorted(expected):
        swapped = [i for i, (a, b) in enumerate(zip(shape, expected, strict=True)) if a != b]
        return [Finding(name, Kind.SHAPE, ("swapped",), seen | {"axes": swapped})]
    if name == "y" and shape[:-1] == expected[:-1]:
        case = evidence.case
        formula = (
            f"({case.length} + {sum(case.spec.pads)} − {case.dilation}·{case.kernel_size - 1}"
            f" − 1) // {case.stride} + 1"
        )
        return [Finding(name, Kind.SHAPE, ("L_out",), seen | {"l_out": formula})]
    if name == "db":
        return [Finding(name, Kind.SHAPE, ("db",), seen)]
    return [Finding(name, Kind.SHAPE, (), seen)]


def nonfinite_clue(evidence: Evidence, name: str) -> list[Finding]:
    actual = evidence.outputs[name]
    bad = ~np.isfinite(actual)
    if not bad.any():
        return []
    first = [int(i) for i in np.argwhere(bad)[0]]
    kinds = tuple(k for k, m in (("NaN", np.isnan(actual)), ("inf", np.isinf(actual))) if m.any())
    seen = {"count": int(bad.sum()), "total": int(actual.size), "first": first}
    return [Finding(name, Kind.NONFINITE, kinds, seen)]


def zeros_clue(evidence: Evidence, name: str) -> list[Finding]:
    if not evidence.outputs[name].any() and evidence.truth[name].any():
        return [Finding(name, Kind.ZEROS)]
    return []


def dtype_clue(evidence: Evidence, name: str) -> list[Finding]:
    """A tensor in another dtype than the input's: names its dtype (evidence: the checked one,
    and whether the values are right)."""
    actual, dtype = evidence.outputs[name], np.dtype(evidence.case.dtype)
    if actual.dtype == dtype:
        return []
    names, checked = (str(actual.dtype),), {"checked": str(dtype)}
    if evidence.matches(name, evidence.truth[name], slack=1):
        return [Finding(name, Kind.DTYPE, names, checked | {"values": "right"})]
    if np.issubdtype(actual.dtype, np.floating) and actual.dtype.itemsize < dtype.itemsize:
        return [Finding(name, Kind.DTYPE, names, checked | {"values": "narrower"})]
    return []


def factor_clue(evidence: Evidence, name: str) -> list[Finding]:
    """A constant ratio to the truth, with the parameters that give it (none: no parameter
    does). Its fit is the residual once the factor is taken out."""
    actual, expected = evidence.outputs[name].astype(np.float64), evidence.truth[name]
    if np.count_nonzero(expected) < 2:  # any wrong value of a single number is "a factor"
        return []
    scale = float(np.max(np.abs(expected)))  # the products neither overflow nor underflow
    ratio = float(
        np.vdot(actual / scale, expected / scale) / np.vdot(expected / scale, expected / scale)
    )
    candidate = ratio * expected
    if not np.isfinite(ratio) or not evidence.differs(name, candidate, slack=1):
        return []  # a factor the allowance cannot tell from 1 explains nothing
    named = tuple(
        why for value, why in _factors(evidence) if np.isclose(ratio, value, rtol=FACTOR_TOLERANCE)
    )
    fit = evidence.fit(name, candidate)
    return [Finding(name, Kind.FACTOR, named, {"ratio": ratio}, fit)]


def _factors(evidence: Evidence) -> list[tuple[float, str]]:
    """Factors the parameters give, by name: "1/N", "K", "-1"..."""
    case = evidence.case
    found = []
    for value, what in ((case.batch, "N"), (case.output_length, "L_out")):
        if value > 1:
            found.append((1 / value, f"1/{what}"))
    if case.batch > 1 and case.output_length > 1:
        found.append((1 / (case.batch * case.output_length), "1/(N·L_out)"))
    multiples = (
        (case.kernel_size, "K"),
        (case.stride, "stride"),
        (case.in_channels, "C_in"),
        (case.out_channels, "C_out"),
    )
    for value, what in multiples:
        if value > 1:
            found += [(float(value), what), (1 / value, f"1/{what}")]
    return [*found, (-1.0, "-1"), (2.0, "2"), (0.5, "1/2")]


def normwise_clue(evidence: Evidence, name: str) -> list[Finding]:
    """A tiny error next to the tensor's size: another algorithm (FFT, Winograd), not a bug."""
    actual, expected = evidence.outputs[name], evidence.truth[name]
    scale = float(np.abs(expected).max())
    with np.errstate(invalid="ignore"):
        worst = float(np.abs(actual - expected).max())
    u = np.finfo(evidence.case.dtype).eps
    if not (scale > 0 and worst <= NORMWISE_ULPS * u * scale):
        return []
    seen = {"error": worst, "scale": scale, "ulps": NORMWISE_ULPS}
    return [Finding(name, Kind.ROUNDING, (), seen, worst / (u * scale))]
