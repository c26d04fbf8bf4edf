"""A failing tensor in words, in the spirit of torch.testing.assert_close's message."""

from __future__ import annotations

from ..normwise import NORMWISE
from ..tolerance import TensorError, Tolerance


def explain(name: str, error: TensorError, tolerance: Tolerance) -> str:
    share = 100 * error.mismatched / error.total
    lines = [
        f"{name}: {error.mismatched} / {error.total} elements ({share:.1f}%) exceed the allowed "
        f"error ({tolerance.describe()}).",
        f"  Worst at index {tuple(error.worst_index)}: layer {error.worst_actual:.10g}, "
        f"reference {error.worst_expected:.10g}, allowed {error.allowed:.3g} ({error.rule}).",
        f"  Greatest absolute difference {error.max_abs:.3g}, "
        f"greatest relative difference {error.max_rel:.3g}.",
    ]
    if error.rule == NORMWISE:
        lines.append(
            f"  The error's norm is {error.share:.3g} times the norm-wise bound {error.allowed:.3g}"
            " of a transform's rounding (--rule normwise)."
        )
    if error.unexplained:
        lines.append(
            f"  {error.unexplained} of them beyond the worst-case bound γ_n·Σ|t|: no order of "
            "summation explains them."
        )
    elif not tolerance.explicit:
        lines.append(
            "  All within the worst-case bound γ_n·Σ|t|: a sum ordered to let its partial sums "
            "grow (sorted terms) could err so; a layer meaning to may use --atol/--rtol."
        )
    return "\n".join(lines)
