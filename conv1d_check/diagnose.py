"""What a failure looks like: the assert_close-style explanation and the diagnosis."""

from __future__ import annotations

import numpy as np

from .case import Case
from .tolerance import TensorError, Tolerance, unit_roundoff

Tensors = dict[str, np.ndarray]


def explain(name: str, error: TensorError, tolerance: Tolerance) -> str:
    """A failing tensor in the spirit of torch.testing.assert_close's message."""
    share = 100 * error.mismatched / error.total
    return (
        f"{name}: {error.mismatched} / {error.total} elements ({share:.1f}%) exceed the allowed "
        f"error ({tolerance.describe()}).\n"
        f"  Worst at index {tuple(error.worst_index)}: layer {error.worst_actual:.10g}, "
        f"reference {error.worst_expected:.10g}, allowed {error.allowed:.3g}.\n"
        f"  Greatest absolute difference {error.max_abs:.3g}, "
        f"greatest relative difference {error.max_rel:.3g}."
    )


def diagnose(
    case: Case, tensors: Tensors, outputs: Tensors, truth: Tensors, failed: list[str]
) -> list[str]:
    """Plain-words guesses at what is wrong with each failing tensor, from the numbers alone."""
    notes = []
    for name in failed:
        actual, expected = outputs[name], truth[name]
        notes += [
            f"{name}: {note}" for note in _nonfinite(actual) + _normwise(case, actual, expected)
        ]
    return notes


def _nonfinite(actual: np.ndarray) -> list[str]:
    bad = ~np.isfinite(actual)
    if not bad.any():
        return []
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    kinds = " and ".join(
        k for k, m in (("NaN", np.isnan(actual)), ("inf", np.isinf(actual))) if m.any()
    )
    return [f"{kinds} in {int(bad.sum())} of {actual.size} elements, the first at index {first}"]


def _normwise(case: Case, actual: np.ndarray, expected: np.ndarray) -> list[str]:
    """A tiny error next to the tensor's size: another algorithm (FFT, Winograd), not a bug."""
    scale = float(np.abs(expected).max())
    with np.errstate(invalid="ignore"):
        worst = float(np.abs(actual - expected).max())
    if not (scale > 0 and worst <= 64 * unit_roundoff(case.dtype) * scale):
        return []
    return [
        f"the error ({worst:.2g}) is tiny next to the tensor's size ({scale:.2g}): within "
        "norm-wise rounding, as from an FFT or Winograd algorithm rather than a bug; "
        "--atol/--rtol accept it"
    ]
