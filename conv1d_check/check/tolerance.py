"""The pass rule: how far each element of y, dX, dW and db may be from the float64 truth.

Every element is a sum s = Σ t_i of n terms (products, and the bias), which the layer computes
in unit roundoff u (2⁻²⁴ in float32, 2⁻⁵³ in float64). Two bounds on its rounding error:

- worst case (Higham, Accuracy and Stability of Numerical Algorithms, §3.1), for any order of
  summation:  |fl(s) − s| ≤ γ_n(u)·Σ|t_i|,  γ_n(u) = n·u / (1 − n·u).
- probable (after Higham & Mary, SIAM J. Sci. Comput. 2019, with the tool's zero-mean inputs):
  |fl(s) − s| ≤ λ·√n·u·max(|s|, ‖t‖₂),  ‖t‖₂ = sqrt(Σ t_i²).

The rounding errors of a sum add up like a random walk, so they grow like √n where the worst
case grows like n; scaled by the terms' root sum of squares instead of their absolute sum, the
probable bound tracks a correct layer's error at every length (docs/design.md §3 derives it
and the choice of λ). That needs terms that vary: terms that hardly vary around a large mean
(inputs shifted far from zero) make the partial sums stall, each addition rounding the same way,
and the error grows like n. So the probable bound counts only where the terms' coefficient of
variation, sqrt(n·‖t‖₂² − s²)/|s|, is at least SPREAD·n·u; elsewhere the worst case alone.
The allowance of an element is the smaller of the two for u, plus the same for u64, the float64
oracle's own rounding. An error beyond the worst case is one that no order of summation can
explain.

Products below the dtype's normal range lose relative precision: with gradual underflow each
errs by at most η = u·(the smallest normal number) absolutely (Higham §2.1), so every element
that sums terms is allowed n·η more, for the layer's dtype and the oracle's float64 (2⁻¹⁵⁰·n in
float32: nothing next to the bounds above, unless the terms are that small).

Explicit atol and rtol switch to torch.testing.assert_close's rule: |a − r| ≤ atol + rtol·|r|.
Under every rule, NaN and inf in the layer's output fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..nn.spec import ConvSpec

TENSORS = ("y", "dX", "dW", "db")
U64 = np.finfo(np.float64).eps / 2
# How many times √n·u·scale an element may be off. A correct layer's error, divided by
# √n·u·max(|s|, ‖t‖₂), has a root mean square of about 0.25 when it sums one term at a time
# (less pairwise or blocked), and passes 1 in a few elements in a thousand, growing no faster
# than √n (benchmarks/ACCURACY.md: at most 0.21 of the allowance over 10² to 10⁷ terms). 12
# puts the allowance about 50 typical errors out, and still fails a 1% error at 10⁷ terms.
CONFIDENCE = 12.0
# The probable bound holds where the terms' coefficient of variation is at least this many
# times n·u. Measured (benchmarks/ACCURACY.md, float32 sequential sums of (μ + ξ)(μ + η)): it
# holds down to 0.79·n·u (μ = 30, 10⁶ terms: 0.02 of it), and fails at 0.24·n·u (μ = 100: 4.6
# times it), where the partial sums' ulp outgrows the terms' spread.
SPREAD = 8.0
WORST_CASE, PROBABLE, EXPLICIT = "worst case", "√n·u", "atol/rtol"
# Elements per block of the allowance and of the comparison (512 KiB of float64 an array): a
# block's temporaries stay in the cache, and the allocator hands their memory to the next.
BLOCK = 1 << 16


def unit_roundoff(dtype: np.dtype | type | str) -> float:
    """u = eps / 2: 2⁻²⁴ for float32, 2⁻⁵³ for float64."""
    return float(np.finfo(dtype).eps) / 2


def gamma(n: int, u: float) -> float:
    """γ_n(u) = n·u / (1 − n·u), the relative error bound of an n-term dot product."""
    if n * u >= 1:
        return np.inf
    return n * u / (1 - n * u)


def term_counts(spec: ConvSpec, batch: int, length: int) -> dict[str, int]:
    """An upper bound on the number of terms summed into one element of each tensor.

    y sums C_in/G · K products and the bias; dX sums C_out/G · K products for each padded copy
    of its sample (reflect and circular padding copy a sample at most twice more, replicate up
    to left + right times onto an edge sample); dW and db sum over the batch and the output
    positions.
    """
    left, right = spec.pads
    copies = 1
    if left or right:
        copies = {"zeros": 1, "reflect": 3, "circular": 3, "replicate": 1 + left + right}[
            spec.padding_mode
        ]
    positions = batch * spec.output_length(length)
    return {
        "y": spec.in_per_group * spec.kernel_size + int(spec.bias),
        "dX": spec.out_per_group * spec.kernel_size * copies,
        "dW": positions,
        "db": positions,
    }


@dataclass(frozen=True)
class Sums:
    """What the bounds of one tensor need, per element (arrays of the tensor's shape):
    the true value s, Σ|t_i| and ‖t‖₂ = sqrt(Σ t_i²); and n, the terms per element at most."""

    value: np.ndarray
    abs_sum: np.ndarray
    root_sum_squares: np.ndarray
    terms: int

    @cached_property
    def magnitude(self) -> np.ndarray:
        """|s|, computed once for the bounds of both roundoffs."""
        return np.abs(self.value)

    @cached_property
    def scale(self) -> np.ndarray:
        """max(|s|, ‖t‖₂), what the probable bound is proportional to."""
        return np.maximum(self.magnitude, self.root_sum_squares)


@dataclass(frozen=True)
class Allowance:
    """The allowed |actual − expected| of every element, and the worst-case bound beside it
    (None under atol/rtol); `stalled` marks the nonzero elements held to the worst case because
    their terms hardly vary although the probable bound is smaller (None under atol/rtol)."""

    allowed: np.ndarray
    worst_case: np.ndarray | None
    stalled: np.ndarray | None = None

    def rule_at(self, index: tuple[int, ...]) -> str:
        """Which rule set the allowance of the element at `index`."""
        if self.worst_case is None:
            return EXPLICIT
        return WORST_CASE if self.allowed[index] >= self.worst_case[index] else PROBABLE


def underflow(sums: Sums, dtype: np.dtype | str) -> np.ndarray:
    """n·η for every element that sums terms (`underflow_loss`), 0 where Σ|t| = 0: nothing was
    summed there."""
    return (np.asarray(sums.abs_sum) > 0) * underflow_loss(sums.terms, dtype)


def underflow_loss(terms: int, dtype: np.dtype | str) -> float:
    """n·η: what `terms` products below `dtype`'s normal range may lose, η = u·tiny each."""
    info = np.finfo(dtype)
    eta = float(info.smallest_normal) * float(info.eps) / 2
    return terms * eta


def varied(sums: Sums, u: float) -> np.ndarray:
    """Where the terms vary enough for their rounding errors to add up at random: the
    coefficient of variation sqrt(n·‖t‖₂² − s²)/|s| is at least c = SPREAD·n·u, that is
    sqrt(n / (1 + c²))·‖t‖₂ ≥ |s| (no square formed, so nothing overflows: where the left side
    overflows it is truly the larger). A boolean array of the tensor's shape."""
    n = sums.terms
    c = SPREAD * n * u
    return np.sqrt(n / (1 + c * c)) * sums.root_sum_squares >= sums.magnitude


def rounding_bounds(sums: Sums, u: float) -> tuple[np.ndarray, np.ndarray]:
    """(the smaller of the two bounds, the worst-case bound) of each element, for roundoff u;
    the worst case alone where the terms hardly vary (`varied`)."""
    worst = worst_case_bound(sums, u)
    return np.where(varied(sums, u), np.minimum(worst, probable_bound(sums, u)), worst), worst


def worst_case_bound(sums: Sums, u: float) -> np.ndarray:
    """γ_n(u)·Σ|t| of each element; 0 where nothing is summed (Σ|t| = 0), also where γ_n is
    infinite (n·u ≥ 1): a sum of zeros is exact in any order."""
    factor = gamma(sums.terms, u)
    if np.isinf(factor):
        return np.where(np.asarray(sums.abs_sum) > 0, np.inf, 0.0)
    return factor * sums.abs_sum


def probable_bound(sums: Sums, u: float) -> np.ndarray:
    """λ·√n·u·max(|s|, ‖t‖₂) of each element."""
    return CONFIDENCE * np.sqrt(sums.terms) * u * sums.scale


@dataclass(frozen=True)
class Tolerance:
    """The pass rule: the rounding bounds by default, assert_close's when atol and rtol are set."""

    atol: float | None = None
    rtol: float | None = None

    def __post_init__(self) -> None:
        if (self.atol is None) != (self.rtol is None):
            raise ValueError("atol and rtol go together: give both or neither")

    @property
    def explicit(self) -> bool:
        return self.atol is not None

    def allowance(self, sums: Sums, dtype: np.dtype | str) -> Allowance:
        """Each element's allowed error for a layer computing in `dtype`, computed BLOCK
        elements at a time: a whole tensor's temporaries would each take fresh memory (17 M
        elements: 1.3 s a tensor, against 0.3 s by blocks)."""
        if self.explicit:
            return Allowance(self.atol + self.rtol * np.abs(sums.value), None)
        value, abs_sum, root_sum_squares = np.broadcast_arrays(
            sums.value, sums.abs_sum, sums.root_sum_squares
        )
        allowed, worst_case = np.empty(value.size), np.empty(value.size)
        stalled = np.empty(value.size, dtype=bool)
        flat = [np.ravel(a) for a in (value, abs_sum, root_sum_squares)]
        for start in range(0, value.size, BLOCK):
            block = slice(start, start + BLOCK)
            part = _rounding_allowance(Sums(*(a[block] for a in flat), sums.terms), dtype)
            allowed[block], worst_case[block] = part.allowed, part.worst_case
            stalled[block] = part.stalled
        shape = value.shape
        return Allowance(allowed.reshape(shape), worst_case.reshape(shape), stalled.reshape(shape))

    def describe(self) -> str:
        if self.explicit:
            return f"|a - r| <= {self.atol:g} + {self.rtol:g}·|r|"
        return f"|a - r| <= min(γ_n(u)·Σ|t|, {CONFIDENCE:g}·√n·u·max(|r|, ‖t‖₂)) + float64's own"


def _rounding_allowance(sums: Sums, dtype: np.dtype | str) -> Allowance:
    """The default rule's allowance: the smaller bound for the layer's roundoff, plus the
    oracle's own rounding under the bound ours took, plus what underflow may lose."""
    u = unit_roundoff(dtype)
    ours, worst = rounding_bounds(sums, u)
    oracle, oracle_worst = rounding_bounds(sums, U64)
    took_worst = ours >= worst
    oracle = np.where(took_worst, oracle_worst, oracle)  # the bound ours took
    small = underflow(sums, dtype) + underflow(sums, np.float64)
    stalled = took_worst & (probable_bound(sums, u) < worst) & (sums.value != 0)
    return Allowance(ours + oracle + small, worst + oracle_worst + small, stalled)


@dataclass(frozen=True)
class TensorError:
    """How far one tensor is from the truth, in the spirit of assert_close's message.

    The worst element is the one with the largest error relative to its own allowance:
    `worst_index` is its index, `allowed` its allowance, `share` its error / allowance and
    `rule` the rule that set it. `unexplained` counts the elements beyond even the worst-case
    bound, which no order of summation can produce.
    """

    max_abs: float
    max_rel: float
    allowed: float
    mismatched: int
    total: int
    worst_index: tuple[int, ...]
    worst_actual: float = 0.0
    worst_expected: float = 0.0
    share: float = 0.0
    rule: str = WORST_CASE
    unexplained: int = 0

    @property
    def passed(self) -> bool:
        return self.mismatched == 0


def compare(actual: np.ndarray, expected: np.ndarray, allowance: Allowance) -> TensorError:
    """Element-wise |actual − expected| against the allowance; NaN and inf always mismatch.
    Computed BLOCK elements at a time, as the allowance is."""
    size = np.size(expected)
    if size == 0:
        return TensorError(0.0, 0.0, 0.0, 0, 0, ())
    shape = np.shape(expected)
    given = [actual, expected, allowance.allowed]
    if allowance.worst_case is not None:
        given.append(allowance.worst_case)
    flat = [np.ravel(np.broadcast_to(a, shape)) for a in given]
    blocks = [
        _compare_block(start, *(a[start : start + BLOCK] for a in flat))
        for start in range(0, size, BLOCK)
    ]
    worst = max(blocks, key=lambda block: block.share)  # the first of equals, as argmax
    index = np.unravel_index(worst.at, shape)
    return TensorError(
        max_abs=float(np.max([block.max_abs for block in blocks])),
        max_rel=float(np.max([block.max_rel for block in blocks])),  # NaN (inf/inf) stays
        allowed=worst.allowed,
        mismatched=sum(block.mismatched for block in blocks),
        total=size,
        worst_index=tuple(int(i) for i in index),
        worst_actual=float(flat[0][worst.at]),
        worst_expected=float(flat[1][worst.at]),
        share=worst.share,
        rule=allowance.rule_at(index),
        unexplained=sum(block.unexplained for block in blocks),
    )


class _Block(NamedTuple):
    """One block's part of a TensorError; `at` is the flat index of its worst element."""

    max_abs: float
    max_rel: float
    mismatched: int
    unexplained: int
    share: float
    at: int
    allowed: float


def _compare_block(
    start: int,
    actual: np.ndarray,
    expected: np.ndarray,
    allowed: np.ndarray,
    worst_case: np.ndarray | None = None,
) -> _Block:
    """compare() on the flat block of elements from `start` on."""
    if not np.isfinite(allowed).all():
        allowed = np.where(np.isfinite(allowed), allowed, 0.0)  # an infinite one allows nothing
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        diff = np.abs(np.asarray(actual, dtype=np.float64) - expected)
        bad = ~(diff <= allowed)  # NaN and inf too: the allowance is finite
        diff[np.isnan(diff)] = np.inf
        ratio = diff / allowed  # x / 0 is inf: nothing was allowed
        ratio[diff == 0] = 0.0
        ratio[bad & ~(ratio > 1)] = np.inf
        rel = np.abs(np.asarray(expected, dtype=np.float64))
        np.divide(diff, rel, out=rel)
        rel[expected == 0] = 0.0
    at = int(np.argmax(ratio))
    unexplained = 0
    if worst_case is not None:
        beyond = ~np.isfinite(diff) | ~(diff <= worst_case)  # NaN: no order explains
        unexplained = int(np.count_nonzero(beyond))
    return _Block(
        float(diff.max()),
        float(rel.max()),
        int(np.count_nonzero(bad)),
        unexplained,
        float(ratio[at]),
        start + at,
        float(allowed[at]),
    )
