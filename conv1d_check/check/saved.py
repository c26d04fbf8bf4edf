"""A case's arrays in one .npz file, for --save and `CaseResult.save`: loadable with
`numpy.load(path, allow_pickle=False)`.

One case: its arrays by name (x, W, b, dy; truth_T, layer_T, error_T, allowed_T per tensor T)
and `id`, the case's id. A sweep (its failure groups' smallest cases, none if none failed):
each name prefixed with the case's place, `case1_x`, `case2_error_dW`..., and `ids` in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .result import CaseResult


def save(path: str | Path, results: Sequence[CaseResult], *, sweep: bool = False) -> None:
    """Write the kept arrays of one case's result, or of a sweep's `results`, to `path`."""
    if not sweep:
        arrays = {"id": np.array(results[0].id), **results[0].arrays}
    else:
        arrays = {"ids": np.array([r.id for r in results], dtype=str)}
        for place, result in enumerate(results, 1):
            arrays |= {f"case{place}_{name}": a for name, a in result.arrays.items()}
    with open(path, "wb") as stream:  # a path without .npz keeps its name
        np.savez_compressed(stream, **arrays)
