"""A sweep's failures grouped by what is wrong, each group with its smallest case and the
parameter pattern that tells its cases from the passing ones, found from the results.

Cases fall in one group when their diagnoses say the same thing up to the numbers in them
("exactly 1/N = 1/3 of the truth" and "... 1/5 ..." are one bug); a case without a diagnosis
is grouped by which tensors fail, an error by its message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..check.case import SHAPE_FIELDS, Case
from ..check.result import CaseResult, Status

# Failure groups the terminal and Markdown reports show in full; the JSON has them all.
MAX_GROUPS = 20
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")


def natural_key(text: str) -> list:
    """Sort key that orders l7 before l16."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def size(case: Case) -> tuple:
    """How big a case is: its elements first, then its parameters, smallest first."""
    return (
        case.elements,
        case.batch,
        case.in_channels,
        case.out_channels,
        case.length,
        case.kernel_size,
        case.stride,
        case.dilation,
        case.groups,
        str(case.padding),
    )


@dataclass
class Group:
    """Failing cases that share what is wrong: `what` in words (the smallest case's lines),
    their results in natural id order, and the pattern that separates them, if one does."""

    key: tuple[str, ...]
    what: list[str]
    results: list[CaseResult]
    pattern: str = ""

    @property
    def smallest(self) -> CaseResult:
        return min(self.results, key=lambda r: size(r.case))

    @property
    def status(self) -> Status:
        return self.results[0].status


def _key(result: CaseResult) -> tuple[str, ...]:
    """What is wrong with a case, its numbers blanked out."""
    if result.status == Status.ERROR:
        lines = [result.message.splitlines()[0] if result.message else "error"]
    else:
        lines = [d for d in result.diagnosis if not d.startswith("consistency:")]
        if not lines:
            failing = sorted(n for n, e in result.errors.items() if not e.passed)
            failing += sorted(result.missing)
            lines = [f"{', '.join(failing) or 'the case'} fails, with no diagnosis"]
    return tuple(NUMBER.sub("#", line) for line in lines)


def group(results: Iterable[CaseResult]) -> list[Group]:
    """The failing and erroring cases of `results`, grouped, largest group first."""
    results = list(results)
    found: dict[tuple[str, ...], list[CaseResult]] = {}
    for result in results:
        if result.status in (Status.FAIL, Status.ERROR):
            found.setdefault(_key(result), []).append(result)
    passing = [r.case for r in results if r.status == Status.PASS]
    groups = []
    for key, members in found.items():
        members.sort(key=lambda r: natural_key(r.id))
        what = _words(min(members, key=lambda r: size(r.case))) or list(key)
        groups.append(Group(key, what, members, pattern([m.case for m in members], passing)))
    return sorted(groups, key=lambda g: (-len(g.results), natural_key(g.results[0].id)))


def _words(result: CaseResult) -> list[str]:
    """What is wrong with one case, in full."""
    if result.status == Status.ERROR:
        return result.message.splitlines()[:1]
    return [d for d in result.diagnosis if not d.startswith("consistency:")]


# ------------------------------------------------------------------ patterns

PARAMETERS = (*SHAPE_FIELDS, "dtype")
# Facts of a case's geometry that a single parameter does not show.
DERIVED: list[tuple[str, Callable[[Case], bool]]] = [
    ("windows overlap (kernel_size > stride)", lambda c: c.spec.span > c.stride),
    ("there are several output positions", lambda c: c.output_length > 1),
    (
        "the last samples reach no window",
        lambda c: (c.length + sum(c.spec.pads) - c.spec.span) % c.stride != 0,
    ),
    ("the batch has several samples", lambda c: c.batch > 1),
    ("there is padding", lambda c: sum(c.spec.pads) > 0),
]


def _conditions(cases: list[Case]) -> tuple[list[str], np.ndarray]:
    """Simple statements about a case that vary among `cases`, and their truth on each case:
    (texts, an array of shape (statements, cases))."""
    texts, rows = [], []

    def add(text: str, row: list[bool]) -> None:
        if any(row) and not all(row):
            texts.append(text)
            rows.append(row)

    for name in PARAMETERS:
        values = [getattr(c, name) for c in cases]
        numbers = sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool)})
        for threshold in numbers[1:]:  # thresholds read best: first
            above = [
                isinstance(v, int) and not isinstance(v, bool) and v >= threshold for v in values
            ]
            add(f"{name} >= {threshold}", above)
            add(f"{name} < {threshold}", [not a for a in above])
        for value in sorted(set(values), key=str):
            add(f"{name} = {value}", [v == value for v in values])
            add(f"{name} != {value}", [v != value for v in values])
    for text, feature in DERIVED:
        truth = [bool(feature(c)) for c in cases]
        add(text, truth)
        add(f"not: {text}", [not t for t in truth])
    return texts, np.array(rows, dtype=bool).reshape(len(rows), len(cases))


def pattern(failing: list[Case], passing: list[Case]) -> str:
    """The simplest statement true of every failing case and of no passing one: one condition,
    else two together; "" when none separates them (or nothing passed to compare with)."""
    if not passing:
        return ""
    texts, truth = _conditions(failing + passing)
    fails = np.arange(truth.shape[1]) < len(failing)
    separates = truth[:, fails].all(axis=1) & ~truth[:, ~fails].any(axis=1)
    if separates.any():
        return f"fails exactly when {texts[int(np.argmax(separates))]}"
    covers = np.flatnonzero(truth[:, fails].all(axis=1))  # a pair's members each hold for all
    for i, j in itertools.combinations(covers, 2):
        if not (truth[i] & truth[j])[~fails].any():
            return f"fails exactly when {texts[i]} and {texts[j]}"
    return ""
