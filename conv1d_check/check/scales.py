"""Where the pass rule reaches its edges, said in a sentence instead of judged silently: sums
the checked dtype cannot hold, products below its normal range, and sums whose terms hardly
vary (inputs far from zero mean), where only the worst-case bound holds and it may be wide.

A tensor whose terms add up (Σ|t|) beyond the dtype's largest number may overflow in a correct
layer (inf where the float64 truth is finite): no verdict on it is sound, so the case is refused
with the reason. Products below the normal range lose relative precision (gradual underflow);
the pass rule allows for it (`tolerance.underflow`) and the result says so where that matters.
Where an element's terms hardly vary (`tolerance.varied`), its allowance is the worst case
γ_n(u)·Σ|t|, about n·u of its value: past a point no error below that can be told from
rounding, and the result says where that point is (the detection floor).
"""

from __future__ import annotations

import numpy as np

from . import torch_side
from .case import Case
from .tolerance import Allowance, Sums, underflow_loss, unit_roundoff

# Say that underflow was allowed for where it is this share of an element's allowance or more.
UNDERFLOW_NOTE_SHARE = 0.01
# Say the detection floor where an error of this share of a value could pass.
FLOOR_NOTE = 1e-3


def beyond_range(case: Case, tensors: dict[str, np.ndarray]) -> str | None:
    """Why the case's dtype cannot compute its judged tensors (their terms add up beyond its
    largest number), one line each, or None. x, W, b, dy: the case's tensors."""
    largest = float(np.finfo(case.dtype).max)
    x, W, b, dy = (tensors.get(n) for n in ("x", "W", "b", "dy"))
    absolute = [None if t is None else np.abs(t.astype(np.float64)) for t in (x, W, b, dy)]
    reaches = torch_side.conv1d(case.spec, *absolute)
    found = [
        f"{name}: its terms add up to {reach:.3g} in magnitude, beyond {case.dtype}'s largest "
        f"number ({largest:.3g}): a correct {case.dtype} layer may overflow there, so no verdict "
        "is sound; check in float64, or scale the inputs"
        for name in case.judged
        if name in reaches and (reach := float(np.max(reaches[name], initial=0.0))) > largest
    ]
    return "\n".join(found) or None


def underflow_note(name: str, sums: Sums, dtype: str, allowance: Allowance) -> str | None:
    """A sentence when products below `dtype`'s normal range weigh in `name`'s allowance."""
    allowed = allowance.allowed
    summed = (np.asarray(sums.abs_sum) > 0) & (allowed > 0)  # where `underflow` adds to it
    # the largest n·η / allowed is at the smallest such allowance (division is monotone)
    share = underflow_loss(sums.terms, dtype) / float(np.min(allowed, where=summed, initial=np.inf))
    if share < UNDERFLOW_NOTE_SHARE:
        return None
    tiny = float(np.finfo(dtype).smallest_normal)
    return (
        f"{name}: products below {dtype}'s normal range ({tiny:.3g}) lose relative precision; "
        f"each may be off by {tiny * unit_roundoff(dtype):.2g}, which the allowance adds (up to "
        f"{share:.0%} of it)"
    )


def notes(name: str, sums: Sums, dtype: str, allowance: Allowance) -> list[str]:
    """What the result should say about tensor `name`'s allowance (the default rule's, for a
    layer computing in `dtype`): underflow, stalling sums."""
    found = [underflow_note(name, sums, dtype, allowance), floor_note(name, sums, dtype, allowance)]
    return [note for note in found if note]


def floor_note(name: str, sums: Sums, dtype: str, allowance: Allowance) -> str | None:
    """A sentence where `name`'s terms hardly vary (and the probable bound, smaller, is set aside),
    with the detection floor where it is wide:
    the smallest relative error that could still pass, min over those elements of
    allowance / |value|."""
    stalled = allowance.stalled
    if not stalled.any():
        return None
    allowed = allowance.allowed
    floor = float(np.min(allowed[stalled] / np.abs(sums.value[stalled])))
    text = (
        f"{name}: its terms hardly vary (inputs far from zero mean), so rounding adds up the "
        "same way and only the worst-case bound holds there"
    )
    if floor >= FLOOR_NOTE:
        text += (
            f"; at {sums.terms:,} terms {dtype} cannot tell an error below {floor:.2g} "
            f"({floor:.1%}) of a value from rounding"
        )
    return text
