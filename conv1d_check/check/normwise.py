"""The norm-wise pass rule (`--rule normwise`): for layers that convolve through a transform.

A layer that convolves with the FFT (or Winograd's algorithm, as cuDNN may) does not sum an
element's own terms: every output is a combination of rounded transform coefficients, each of
which mixes the whole signal. Its error is bounded in norm, not element by element. Higham
(Accuracy and Stability of Numerical Algorithms, §24.1, Theorem 24.2) bounds a radix-2 FFT of
length m computed in unit roundoff u by ‖fl(Fx) − Fx‖₂ ≤ c·log₂(m)·u·‖Fx‖₂, c a small constant;
a convolution through forward transforms, a product and an inverse transform then errs by
about c·log₂(m)·u·‖x‖₂·‖w‖₁ over each output row, and ‖x‖₂·‖w‖₁ bounds the norm of the rows'
absolute sums Σ|t| (Young's inequality), which they match for the tool's random inputs. Hence,
for a whole tensor T with elements s_j = Σ_i t_ji,

    ‖fl(T) − T‖₂ ≤ λ_N·log₂(m)·u·‖(Σ_i |t_ji|)_j‖₂  +  ‖the oracle's own element-wise bounds‖₂,

m the length of a transform that holds the padded input twice over (a linear convolution
without wrap-around). A tensor passes when it passes the element-wise rule, or when its error
norm is within this bound: a layer that sums its terms is judged as before, a transform-based
one may spread rounding over every element, including those that sum no terms at all (a
position no window reaches: its truth is exactly 0, which the element-wise rule holds it to).
The price is locality: an error confined to a few elements passes while its norm is within the
bound, so a bug must be worth more than the bound's share of the whole tensor to fail.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..nn.spec import ConvSpec
from .tolerance import U64, Allowance, Sums, TensorError, compare, rounding_bounds, unit_roundoff

ELEMENTWISE, NORMWISE = "elementwise", "normwise"
PASS_RULES = (ELEMENTWISE, NORMWISE)
# How many times log₂(m)·u·‖Σ|t|‖₂ a tensor's error norm may be. An FFT layer (np.fft, y, dX
# and dW of the tool's cases, float32 and float64, sums of 1 to 10⁶ terms;
# tests/layers/correct_fft.py) uses at most 0.15 of log₂(m)·u·‖Σ|t|‖₂, and on the dot products
# of benchmarks/ACCURACY.md part 4 at most 0.062 of the bound. 4 leaves a margin of 25 while a
# 1% error of a 10⁶-term float32 dW still fails (the bound is 0.3% of it there).
NORMWISE_CONFIDENCE = 4.0


def transform_levels(spec: ConvSpec, length: int) -> int:
    """log₂(m), m the power of two that holds the padded input twice: a linear convolution's
    transform length (at least 1)."""
    left, right = spec.pads
    return max(1, math.ceil(math.log2(2 * (length + left + right))))


def norm(values: np.ndarray) -> float:
    """‖values‖₂ without overflow or underflow: scaled by the largest magnitude first, as BLAS's
    nrm2 does. NaN and inf give inf."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        largest = float(np.max(np.abs(values)))
    if not math.isfinite(largest):
        return math.inf
    if largest == 0:
        return 0.0
    return largest * float(np.sqrt(np.sum(np.square(values / largest))))


def normwise_bound(sums: Sums, dtype: np.dtype | str, levels: int) -> float:
    """The norm-wise bound on ‖layer − truth‖₂ of one tensor, for a layer computing in `dtype`
    through transforms of log₂(m) = `levels`."""
    ours = NORMWISE_CONFIDENCE * levels * unit_roundoff(dtype) * norm(sums.abs_sum)
    return ours + norm(rounding_bounds(sums, U64)[0])


def judge(
    actual: np.ndarray, expected: np.ndarray, allowance: Allowance, bound: float | None = None
) -> TensorError:
    """The element-wise comparison; with a norm-wise `bound`, a tensor that fails it passes
    when ‖actual − expected‖₂ <= bound (NaN and inf never do). Then `share` is the error norm
    over the bound, `allowed` the bound and `rule` "normwise"."""
    error = compare(actual, expected, allowance)
    if bound is None or error.passed:
        return error
    with np.errstate(invalid="ignore", over="ignore"):
        distance = norm(np.asarray(actual, dtype=np.float64) - expected)
    share = distance / bound if bound > 0 else math.inf
    within = distance <= bound
    return replace(
        error,
        allowed=bound,
        share=share,
        rule=NORMWISE,
        mismatched=0 if within else error.mismatched,
    )
