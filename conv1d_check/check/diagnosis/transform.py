"""Transform rounding: a tensor that fails the element-wise rule the way a correct FFT or
Winograd layer does (check/normwise.py), named as such instead of as a bug."""

from __future__ import annotations

import numpy as np

from ..normwise import ELEMENTWISE, norm, normwise_bound, transform_levels
from .evidence import Evidence
from .finding import Finding, Kind

# Transform rounding touches nearly every element; a bug confined to some does not look like it.
SPREAD = 0.25


def transform_rounding_clue(evidence: Evidence, name: str) -> list[Finding]:
    """Under the element-wise rule: errors over most elements whose norm is within the
    norm-wise bound are a transform's rounding; --rule normwise judges them."""
    case = evidence.case
    if case.rule != ELEMENTWISE or case.atol is not None:
        return []
    with np.errstate(invalid="ignore", over="ignore"):
        error = evidence.outputs[name].astype(np.float64) - evidence.truth[name]
    spread = np.count_nonzero(error) / max(error.size, 1)
    sums = evidence.oracle.sums(name, evidence.counts[name])
    bound = normwise_bound(sums, case.dtype, transform_levels(case.spec, case.length))
    distance = norm(error)
    if spread < SPREAD or not distance <= bound:
        return []
    seen = {"spread": spread, "share": distance / bound}
    return [Finding(name, Kind.ROUNDING, (), seen, distance / bound)]
