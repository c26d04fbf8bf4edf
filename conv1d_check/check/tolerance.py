"""Error metrics and the pass rule.

The default rule bounds each element's error by the classic dot-product
rounding bound (Higham, Accuracy and Stability of Numerical Algorithms, §3.1):
a sum of n products computed in unit roundoff u, in any order, satisfies

    |fl(s) − s| ≤ γ_n(u) · Σ|terms|,   γ_n(u) = n·u / (1 − n·u).

The allowed error of an element is (γ_n(u) + γ_n(u_64)) · Σ|terms|: the checked
side's rounding plus the float64 oracle's own. Σ|terms| is the same convolution
computed on absolute values, and n an upper bound on the terms summed into the
element (`term_counts`). Explicit atol/rtol switch to torch.testing.assert_close
semantics instead: |a − r| ≤ atol + rtol·|r|.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.spec import ConvSpec

TENSORS = ("y", "dX", "dW", "db")
U64 = np.finfo(np.float64).eps / 2


def unit_roundoff(dtype: np.dtype | type) -> float:
    """u = eps / 2: 2⁻²⁴ for float32, 2⁻⁵³ for float64."""
    return float(np.finfo(dtype).eps) / 2


def gamma(n: int, u: float) -> float:
    """γ_n(u) = n·u / (1 − n·u), the relative error bound of an n-term dot product."""
    if n * u >= 1:
        return np.inf
    return n * u / (1 - n * u)


def term_counts(spec: ConvSpec, batch: int, length: int) -> dict[str, int]:
    """An upper bound on the number of terms summed into one element of each tensor.

    y sums C_in/G · K products and the bias; dX sums C_out/G · K products for each
    padded copy of its sample (reflect and circular padding copy a sample at most
    twice more, replicate up to left + right times onto an edge sample); dW and db
    sum over the batch and the output positions.
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
class Tolerance:
    """The pass rule: the rounding bound by default, assert_close's when atol and rtol are set."""

    atol: float | None = None
    rtol: float | None = None

    def __post_init__(self) -> None:
        if (self.atol is None) != (self.rtol is None):
            raise ValueError("atol and rtol go together: give both or neither")

    @property
    def explicit(self) -> bool:
        return self.atol is not None

    def allowed(
        self, expected: np.ndarray, abs_sum: np.ndarray, n_terms: int, dtype: np.dtype
    ) -> np.ndarray:
        """The allowed |actual − expected| of every element."""
        if self.explicit:
            return self.atol + self.rtol * np.abs(expected)
        factor = gamma(n_terms, unit_roundoff(dtype)) + gamma(n_terms, U64)
        return factor * abs_sum

    def describe(self) -> str:
        if self.explicit:
            return f"|a - r| <= {self.atol:g} + {self.rtol:g}·|r|"
        return "|a - r| <= (γ_n(u) + γ_n(u64))·Σ|terms| (rounding bound)"


@dataclass(frozen=True)
class TensorError:
    """How far one tensor is from the oracle, in the spirit of assert_close's message.

    The worst element is the one with the largest error relative to its own
    allowed bound: `worst_index` is its index and `allowed` its bound.
    """

    max_abs: float
    max_rel: float
    allowed: float
    mismatched: int
    total: int
    worst_index: tuple[int, ...]
    worst_actual: float = 0.0
    worst_expected: float = 0.0

    @property
    def passed(self) -> bool:
        return self.mismatched == 0


def compare(actual: np.ndarray, expected: np.ndarray, allowed: np.ndarray) -> TensorError:
    """Element-wise |actual − expected| against `allowed`; NaN and inf count as mismatches."""
    if np.size(expected) == 0:
        return TensorError(0.0, 0.0, 0.0, 0, 0, ())
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        diff = np.abs(np.asarray(actual, dtype=np.float64) - expected)
        diff = np.where(np.isnan(diff), np.inf, diff)
        ratio = np.where(diff == 0, 0.0, diff / allowed)  # x / 0 is inf: nothing was allowed
        rel = np.where(expected != 0, diff / np.abs(expected), 0.0)
    worst = np.unravel_index(np.argmax(ratio), diff.shape)
    return TensorError(
        max_abs=float(diff.max()),
        max_rel=float(rel.max()),
        allowed=float(np.broadcast_to(allowed, diff.shape)[worst]),
        mismatched=int(np.count_nonzero(diff > allowed)),
        total=diff.size,
        worst_index=tuple(int(i) for i in worst),
        worst_actual=float(np.asarray(actual)[worst]),
        worst_expected=float(expected[worst]),
    )
