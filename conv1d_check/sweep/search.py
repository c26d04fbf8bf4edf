"""--search N: explore the parameter space for a failing case and shrink it to the smallest.

hypothesis is the engine: it draws cases (the base case's layer, dtype and how it runs, with
the geometry drawn), runs them, and shrinks the first failure as its shrinker does: every
choice toward the small end of its range, in the order drawn (batch, channels, length, kernel,
stride, then padding, dilation, groups), so the case it ends on has the fewest elements, then
the smallest parameters. What the layer cannot take (a parameter its constructor lacks) is
learnt first, from one small case per such parameter, and not drawn.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, Phase, Verbosity, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ..check.case import SHAPE_FIELDS, Case
from ..check.result import CaseResult, Status
from ..nn.spec import PADDING_MODES, InvalidParameter

SHRINK_RUNS = 300  # runs allowed to shrink a failure, beyond the search's own budget


@dataclass
class SearchResult:
    """What a search found: the smallest failing case's result (None: none failed), how many
    cases were judged and skipped, and the values each parameter took in the judged cases."""

    failure: CaseResult | None
    judged: int = 0
    skipped: int = 0
    runs: int = 0
    explored: dict[str, set] = field(default_factory=dict)
    interrupted: bool = False  # by Ctrl-C: the failure, if any, may shrink further


class _Failed(Exception):
    """A case failed: carries its result out of hypothesis."""

    def __init__(self, result: CaseResult):
        super().__init__(result.id)
        self.result = result


def search(base: Case, budget: int, seed: int, run: Callable[[Case], CaseResult]) -> SearchResult:
    """Up to `budget` judged cases like `base` (its layer, dtype, tolerance), geometry drawn;
    the first failure shrunk. The same `seed` gives the same cases and the same answer."""
    found = SearchResult(None)
    lacking = unsupported(base, run)

    @hypothesis_seed(seed)
    @settings(
        max_examples=budget,
        database=None,
        deadline=None,
        derandomize=False,
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        if found.runs >= budget + SHRINK_RUNS:
            return  # out of runs: what is failing now is the answer
        case = _draw(data, base, lacking)
        assume(case is not None)  # a combination Conv1d refuses: not one of the budget
        found.runs += 1
        result = run(case)
        if result.status == Status.SKIP:
            found.skipped += 1
            assume(False)
        found.judged += 1
        for name in SHAPE_FIELDS:
            found.explored.setdefault(name, set()).add(getattr(case, name))
        if result.status in (Status.FAIL, Status.ERROR):
            found.failure = result  # shrinking only ever finds smaller ones
            raise _Failed(result)

    try:
        explore()
    except _Failed as failed:
        found.failure = failed.result
    except KeyboardInterrupt:  # Ctrl-C: what was found so far is the answer
        found.interrupted = True
    return found


def unsupported(base: Case, run: Callable[[Case], CaseResult]) -> set[str]:
    """The parameters the layer cannot take: each tried once on a small case."""
    small = replace(base, batch=1, in_channels=2, out_channels=2, length=8, kernel_size=2)
    probes = {
        "stride": {"stride": 2},
        "padding": {"stride": 1, "padding": 1},
        "padding_mode": {"stride": 1, "padding": 1, "padding_mode": "reflect"},
        "dilation": {"stride": 1, "dilation": 2},
        "groups": {"stride": 1, "groups": 2},
    }
    lacking = set()
    for name, values in probes.items():
        result = run(replace(small, **values).validate())
        if result.status == Status.SKIP and re.search(rf"\b{name}=", result.message):
            lacking.add(name)
    return lacking


def _draw(data: st.DataObject, base: Case, lacking: set[str]) -> Case | None:
    """A case drawn small-first; None when Conv1d refuses the combination."""
    draw = data.draw
    groups = 1 if "groups" in lacking else draw(st.integers(1, 3))
    params = {
        "batch": draw(st.integers(1, 4)),
        "in_channels": groups * draw(st.integers(1, 4)),
        "out_channels": groups * draw(st.integers(1, 4)),
        "length": draw(st.integers(1, 24)),
        "kernel_size": draw(st.integers(1, 5)),
        "stride": 1 if "stride" in lacking else draw(st.integers(1, 4)),
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    if "padding" not in lacking:
        params["padding"] = draw(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])))
        if "padding_mode" not in lacking:
            params["padding_mode"] = draw(st.sampled_from(PADDING_MODES))
    if "dilation" not in lacking:
        params["dilation"] = draw(st.integers(1, 3))
    neutral = {"padding": 0, "padding_mode": "zeros", "dilation": 1}
    case = replace(base, **(neutral | params))
    try:
        return case.validate()
    except InvalidParameter:
        return None
