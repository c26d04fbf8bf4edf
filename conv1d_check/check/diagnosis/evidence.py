"""A failed case's numbers, and the comparisons every clue is made of."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from functools import cached_property

import numpy as np

from .. import torch_side
from ..case import Case
from ..tolerance import Tolerance, term_counts, unit_roundoff
from ..torch_side import Truth

Tensors = dict[str, np.ndarray]
# A hypothesis is confirmed when the layer's tensor equals the hypothesis's truth within this
# many times the tensor's allowance: that truth is computed in float64 from changed inputs,
# whose sums (and so rounding) can be a few times larger than the real ones.
SLACK = 4


@dataclass
class Evidence:
    """A failed case: the inputs, the layer's outputs, the float64 truth and the weights the
    layer built for itself (if known); `known`, the default rule's allowances for the case's
    dtype where the verdict computed them already (by tensor), which `allowed` then reuses."""

    case: Case
    tensors: Tensors  # x, W, b (with bias), dy as the layer got them
    outputs: Tensors  # the layer's y, dX, dW, db
    oracle: Truth
    initial: Tensors = field(default_factory=dict)
    known: InitVar[Tensors | None] = None
    _allowed: dict[tuple[str, np.dtype], np.ndarray] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self, known: Tensors | None) -> None:
        for name, allowed in (known or {}).items():
            allowed.setflags(write=False)
            self._allowed[name, np.dtype(self.case.dtype)] = allowed

    @property
    def truth(self) -> Tensors:
        return self.oracle.values

    @cached_property
    def inputs64(self) -> Tensors:
        return {k: v.astype(np.float64) for k, v in self.tensors.items()}

    @cached_property
    def counts(self) -> dict[str, int]:
        return term_counts(self.case.spec, self.case.batch, self.case.length)

    def allowed(self, name: str, dtype: str | np.dtype | None = None) -> np.ndarray:
        """The allowance of `name`'s elements, for a layer computing in the case's dtype or
        another: computed once (read-only), as every clue asks for it."""
        key = (name, np.dtype(dtype or self.case.dtype))
        if key not in self._allowed:
            sums = self.oracle.sums(name, self.counts[name])
            allowed = Tolerance().allowance(sums, key[1]).allowed
            allowed.setflags(write=False)
            self._allowed[key] = allowed
        return self._allowed[key]

    def wrong(self, name: str) -> np.ndarray:
        """Where the layer's `name` is beyond its allowance (NaN included): a boolean mask."""
        with np.errstate(invalid="ignore", over="ignore"):
            return ~(np.abs(self.outputs[name] - self.truth[name]) <= self.allowed(name))

    def matches(self, name: str, candidate: np.ndarray | None, slack: float = SLACK) -> bool:
        """The layer's `name` equals `candidate` within `slack` times its allowance."""
        return _within(self.outputs[name], candidate, slack * self.allowed(name))

    def differs(self, name: str, candidate: np.ndarray | None, slack: float = SLACK) -> bool:
        """`candidate` is not just the truth again: a bug that changes tensor `name`."""
        return not _within(self.truth[name], candidate, slack * self.allowed(name))

    def explains(
        self, name: str, candidate: np.ndarray | None, abs_sum: np.ndarray | None = None
    ) -> bool:
        """`candidate` is what the layer gave, and not what it should have."""
        return self.differs(name, candidate) and self.fit(name, candidate, abs_sum) <= SLACK

    def fit(
        self, name: str, candidate: np.ndarray | None, abs_sum: np.ndarray | None = None
    ) -> float:
        """The worst |layer − candidate| over the allowance: at or below 1, the candidate
        leaves rounding only (inf: another shape). `abs_sum`, the candidate's own Σ|t|, widens
        the allowance where it sums other terms than the truth (an element the truth sums
        nothing into has no allowance of its own)."""
        actual = self.outputs[name]
        if candidate is None or np.shape(candidate) != actual.shape:
            return float("inf")
        allowed = self.allowed(name)
        if abs_sum is not None:
            # the √n·u model of the pass rule (docs/design.md §3) on the candidate's own terms:
            # the worst case γ_n grows like n and, at 10⁵ terms in float32, fits anything
            n, u = self.counts[name], unit_roundoff(self.case.dtype)
            allowed = allowed + np.sqrt(n) * u * abs_sum
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            ratio = np.abs(actual - candidate) / (allowed + 1e-300)
        return float(np.nan_to_num(ratio, nan=np.inf).max(initial=0.0))

    def truth_with(self, **changes: np.ndarray) -> Tensors:
        """The float64 truth for changed inputs (x, W, b, dy)."""
        inputs = self.inputs64 | changes
        return torch_side.conv1d(
            self.case.spec, inputs["x"], inputs["W"], inputs.get("b"), inputs["dy"]
        )


def _within(actual: np.ndarray, candidate: np.ndarray | None, allowed: np.ndarray) -> bool:
    if candidate is None or np.shape(candidate) != actual.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(actual - candidate) <= allowed + 1e-300))
