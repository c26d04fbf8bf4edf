"""Clues read off one failing tensor: its shape, NaN and inf, zeros, its dtype, a constant
factor that the case's parameters explain."""

from __future__ import annotations

import numpy as np

from .evidence import Evidence

# A fitted factor is named after a parameter when it equals it to this relative precision: the
# least-squares ratio of two tensors that differ by rounding only is exact to about u.
FACTOR_TOLERANCE = 1e-5


def shape_clue(evidence: Evidence, name: str, shape: tuple[int, ...]) -> list[str]:
    expected = evidence.truth[name].shape
    case = evidence.case
    other = next((n for n, t in evidence.truth.items() if n != name and t.shape == shape), None)
    if other and name != "y":
        return [
            f"has the shape of {other} {shape}: backward's results in another order? "
            "seed returns (db, dW, dX), functional (dx, dw, db)"
        ]
    if len(shape) != len(expected):
        return [
            f"has {len(shape)} axes, not {len(expected)} {expected}: a 1-D convolution's {name} "
            f"is {'(N, C, L)' if name in ('y', 'dX') else expected}"
        ]
    if sorted(shape) == sorted(expected):
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


def nonfinite_clue(evidence: Evidence, name: str) -> list[str]:
    actual = evidence.outputs[name]
    bad = ~np.isfinite(actual)
    if not bad.any():
        return []
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    kinds = [k for k, mask in (("NaN", np.isnan(actual)), ("inf", np.isinf(actual))) if mask.any()]
    return [
        f"{' and '.join(kinds)} in {int(bad.sum())} of {actual.size} elements, first at {first}"
    ]


def zeros_clue(evidence: Evidence, name: str) -> list[str]:
    if not evidence.outputs[name].any() and evidence.truth[name].any():
        return ["all zeros: never computed"]
    return []


def dtype_clue(evidence: Evidence, name: str) -> list[str]:
    """A tensor in another dtype than the input's, and what its values say about it."""
    actual, dtype = evidence.outputs[name], np.dtype(evidence.case.dtype)
    if actual.dtype == dtype:
        return []
    if evidence.matches(name, evidence.truth[name], slack=1):
        return [
            f"the values are right but the dtype is {actual.dtype}: torch keeps the input's "
            f"{dtype} (allocate with the input's dtype, e.g. np.zeros(shape, dtype=x.dtype))"
        ]
    if np.issubdtype(actual.dtype, np.floating) and actual.dtype.itemsize < dtype.itemsize:
        return [
            f"returned as {actual.dtype} in a {dtype} check: it is computed or stored in "
            f"{actual.dtype}"
        ]
    return []


def factor_clue(evidence: Evidence, name: str) -> list[str]:
    """A constant ratio to the truth, named after the parameters that give it."""
    actual, expected = evidence.outputs[name].astype(np.float64), evidence.truth[name]
    if np.count_nonzero(expected) < 2:  # any wrong value of a single number is "a factor"
        return []
    scale = float(np.max(np.abs(expected)))  # the products neither overflow nor underflow
    ratio = float(
        np.vdot(actual / scale, expected / scale) / np.vdot(expected / scale, expected / scale)
    )
    if np.isclose(ratio, 1) or not evidence.matches(name, ratio * expected):
        return []
    named = [
        why
        for value, why in _factors(evidence)
        if np.isclose(ratio, value, rtol=FACTOR_TOLERANCE, atol=0)
    ]
    if named:
        return [f"exactly {' or '.join(named)}"]
    return [f"a constant {ratio:.6g} times the truth: a scaling bug"]


def _factors(evidence: Evidence) -> list[tuple[float, str]]:
    """Factors the parameters explain, with what each would mean; then sign and doubling."""
    case = evidence.case
    n, l_out, k = case.batch, case.output_length, case.kernel_size
    found = []
    averages = (
        (n, "N", "the batch"),
        (l_out, "L_out", "the output positions"),
        (n * l_out, "N·L_out", "the batch and the positions"),
    )
    for value, what, over in averages:
        if value > 1:
            why = f"1/{what} = 1/{value} of the truth: averaged over {over} instead of summed"
            found.append((1 / value, why))
    multiples = (
        (k, "K, the kernel size"),
        (case.stride, "the stride"),
        (case.in_channels, "C_in"),
        (case.out_channels, "C_out"),
    )
    for value, what in multiples:
        if value > 1:
            found.append((float(value), f"{value} ({what}) times the truth"))
            found.append((1 / value, f"the truth divided by {value} ({what})"))
    return [
        *found,
        (-1.0, "the truth with its sign flipped"),
        (2.0, "twice the truth: counted twice (accumulated over two backward calls?)"),
        (0.5, "half the truth"),
    ]
