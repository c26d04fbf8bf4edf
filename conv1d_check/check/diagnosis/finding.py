"""A finding: one measured clue about a failing case, as data.

The diagnosis is a list of findings; the words people read (`words.py`), the failure groups
(report/groups.py), the JSON's `findings` and the tests are all made from them. A finding
names the tensor, the kind of bug or fact, the parameters it names (the aliases that fit, e.g.
("N", "C_out") for a factor 1/3 when both are 3), what was measured and how well it fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What a finding says. Bugs first, then facts that narrow one down, then case-wide."""

    SHAPE = "shape"  # the tensor's shape is wrong (evidence says how)
    NONFINITE = "nonfinite"  # NaN or inf
    ZEROS = "zeros"  # all zeros where the truth is not
    DTYPE = "dtype"  # the right values in the wrong dtype, or a narrower dtype returned
    ROUNDING = "rounding"  # a norm-wise rounding error (an FFT, Winograd): not a bug
    FACTOR = "factor"  # a constant times the truth; names: the parameters that give it
    PRECISION = "precision"  # computed or stored in a narrower format; names: the format
    SAMPLES = "samples"  # a sum over the batch missing samples, or only some samples right
    FLIPPED_KERNEL = "flipped_kernel"  # a convolution, not a cross-correlation
    STRIDE_IGNORED = "stride_ignored"  # backward scatters as if the stride were 1
    OWN_WEIGHTS = "own_weights"  # the layer's own initial weights, not the ones given
    AXES_SWAPPED = "axes_swapped"  # dW's C_out and C_in axes swapped
    DB_AXES = "db_axes"  # db summed over the wrong axes
    BIAS_MISSING = "bias_missing"  # y without the bias
    OVERLAP_OVERWRITE = "overlap_overwrite"  # dX's windows written with = where += is needed
    PADDING_MODE = "padding_mode"  # y padded in another mode; names: that mode
    PLACES = "places"  # wrong only in some places (names: the axes, "edges")
    UNEXPLAINED = "unexplained"  # none of the explanations fits: what was measured
    CONSISTENCY = "consistency"  # a gradient set against central differences of the forward
    TORCH_DRIFT = "torch_drift"  # torch itself outside the bound


# Kinds that describe the case or the reference rather than a bug: not what groups are made of.
CONTEXT = frozenset({Kind.CONSISTENCY, Kind.TORCH_DRIFT})


@dataclass(frozen=True)
class Finding:
    """One clue. tensor: "y", "dX", "dW", "db" ("" for the case); evidence: the measured
    numbers (JSON values); fit: the worst |layer − explanation| over its allowance (at or
    below 1: the explanation leaves rounding only; None where the finding is not a fit)."""

    tensor: str
    kind: Kind
    names: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    fit: float | None = field(default=None, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str]:
        """What groups compare: the tensor and the kind (the names are merged, see groups)."""
        return (self.tensor, str(self.kind))

    def to_record(self) -> dict[str, Any]:
        record = {"tensor": self.tensor, "kind": str(self.kind), "names": list(self.names)}
        fit = None if self.fit is None else round(float(self.fit), 4)
        return record | {"evidence": self.evidence, "fit": fit}

    @classmethod
    def from_record(cls, record: Any) -> Finding:
        """A finding from its JSON record; ValueError or TypeError when it is not one."""
        if not isinstance(record, dict) or not isinstance(record.get("names", []), list):
            raise TypeError("a finding is an object with tensor, kind, names, evidence, fit")
        fit = record.get("fit")
        return cls(
            str(record["tensor"]),
            Kind(record["kind"]),
            tuple(str(n) for n in record.get("names", [])),
            dict(record.get("evidence") or {}),
            None if fit is None else float(fit),
        )
