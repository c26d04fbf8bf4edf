"""What a failure looks like: the diagnosis of each failing tensor, worked out from the numbers.

Every clue is a measurement: the failing tensor is compared with the float64 truth, with the
truths of likely bugs (`hypotheses`), with the samples' contributions (`samples`), with what
rounding in a narrower precision gives (`precision`), and its mismatches are located
(`places`). The first clue that holds is the tensor's diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable

from .clues import dtype_clue, factor_clue, nonfinite_clue, shape_clue, zeros_clue
from .evidence import Evidence
from .explain import explain
from .hypotheses import Alternative, alternatives
from .places import overlap_or_edge_clue, strips, subset_clue
from .precision import precision_clue
from .samples import sample_clue
from .transform import transform_rounding_clue

__all__ = ["Evidence", "diagnose", "explain", "strips"]


def diagnose(evidence: Evidence, failed: list[str]) -> list[str]:
    """Plain-words findings on each failing tensor, `name: finding`."""
    table: list[Alternative] = []

    def likely_bug(evidence: Evidence, name: str) -> list[str]:
        if not table:
            table.extend(alternatives(evidence))  # once per case, for every tensor
        return [
            a.description
            for a in table
            if evidence.explains(name, a.tensors.get(name), (a.abs_sums or {}).get(name))
        ][:1]

    clues: tuple[Callable[[Evidence, str], list[str]], ...] = (
        nonfinite_clue,
        zeros_clue,
        dtype_clue,
        factor_clue,
        transform_rounding_clue,
        likely_bug,
        sample_clue,
        precision_clue,
        overlap_or_edge_clue,
        subset_clue,
    )
    notes = []
    for name in failed:
        actual, expected = evidence.outputs.get(name), evidence.truth[name]
        if actual is None:
            continue
        if actual.shape != expected.shape:
            found = shape_clue(evidence, name, actual.shape)
        else:
            found = next((f for clue in clues if (f := clue(evidence, name))), [])
        notes += [f"{name}: {note}" for note in found]
    return notes
