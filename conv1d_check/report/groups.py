"""A sweep's failures grouped by what is wrong, each group with its smallest case and the
parameter pattern that tells its cases from the passing ones, found from the results.

Cases fall in one group when their findings are of the same kinds on the same tensors and the
parameters each names have one in common ("1/N or 1/C_out" with N = C_out = 3, and "1/N" with
N = 5, are one bug: averaged over the batch). Words are made from the findings only; an error
is grouped by its message's first line, its numbers blanked; a failure without findings (read
from an older results file) by its diagnosis, else by which tensors fail.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from ..check.case import SHAPE_FIELDS, Case
from ..check.diagnosis import lines
from ..check.diagnosis.finding import CONTEXT, Finding
from ..check.result import CaseResult, Status
from ..check.tolerance import TENSORS

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
    """What is wrong with a case: its findings' tensors and kinds, or its numbers-blanked words."""
    if result.status == Status.ERROR:
        lines = [result.message.splitlines()[0] if result.message else "error"]
    elif found := _bugs(result):
        return tuple(f"{tensor} {kind}" for tensor, kind in sorted({f.key for f in found}))
    else:
        lines = [d for d in result.diagnosis if not d.startswith("consistency:")]
        if not lines:
            failing = sorted(n for n, e in result.errors.items() if not e.passed)
            failing += sorted(result.missing)
            lines = [f"{', '.join(failing) or 'the case'} fails, with no diagnosis"]
    return tuple(NUMBER.sub("#", line) for line in lines)


def _bugs(result: CaseResult) -> list[Finding]:
    return [f for f in result.findings if f.kind not in CONTEXT]


def _names(result: CaseResult) -> dict[tuple[str, str], set[str]]:
    """The parameters each of a case's findings names, by the finding's (tensor, kind)."""
    names: dict[tuple[str, str], set[str]] = {}
    for f in _bugs(result):
        names.setdefault(f.key, set()).update(f.names)
    return names


def _joins(common: dict[tuple[str, str], set[str]], names: dict) -> bool:
    """A case joins a group when each finding names a parameter the group's all name (or
    neither names any)."""
    shared = common.keys() & names.keys()  # a case without bias has no db finding
    return all((common[k] & names[k]) or not (common[k] or names[k]) for k in shared)


def _same(key: tuple[str, ...], other: tuple[str, ...], shared: set[str]) -> bool:
    """Two cases' keys name the same bug: equal on the tensors both cases have (`shared`), so
    that a case without bias, which has no db, joins those whose db the bug makes wrong too."""

    def on_shared(entries: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            e for e in entries if e.split(" ")[0] in shared or e.split(" ")[0] not in TENSORS
        )

    return on_shared(key) == on_shared(other)


def _tensors(case: Case) -> set[str]:
    """The tensors a case has and judges (no db without bias)."""
    return {name for name in case.judged if name != "db" or case.bias}


def group(results: Iterable[CaseResult]) -> list[Group]:
    """The failing and erroring cases of `results`, grouped, largest group first."""
    results = list(results)
    found: list[tuple[tuple[str, ...], dict, list[CaseResult]]] = []
    for result in (r for r in results if r.status in (Status.FAIL, Status.ERROR)):
        key, names = _key(result), _names(result)
        for other, common, members in found:
            shared = _tensors(result.case) & _tensors(members[0].case)
            if _same(key, other, shared) and _joins(common, names):
                members.append(result)
                for k, named in names.items():  # the names all members' findings share
                    common[k] = common[k] & named if k in common else named
                break
        else:
            found.append((key, names, [result]))
    passing = [r.case for r in results if r.status == Status.PASS]
    groups = []
    for key, common, members in found:
        members.sort(key=lambda r: natural_key(r.id))
        what = _words(min(members, key=lambda r: size(r.case)), common) or list(key)
        groups.append(Group(key, what, members, pattern([m.case for m in members], passing)))
    return sorted(groups, key=lambda g: (-len(g.results), natural_key(g.results[0].id)))


def _words(result: CaseResult, common: dict[tuple[str, str], set[str]]) -> list[str]:
    """What is wrong with one case, in full, its findings naming what the group's all name."""
    if result.status == Status.ERROR:
        return result.message.splitlines()[:1]
    if found := _bugs(result):
        narrowed = [
            replace(f, names=tuple(n for n in f.names if n in common[f.key])) for f in found
        ]
        return lines(narrowed)
    return [d for d in result.diagnosis if not d.startswith("consistency:")]


# ------------------------------------------------------------------ patterns

PARAMETERS = (*SHAPE_FIELDS, "dtype")
ALSO_SEPARATING = 2  # other parameters' conditions named beside the first that separates
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


def _conditions(cases: list[Case]) -> tuple[list[str], list[str], np.ndarray]:
    """Simple statements about a case that vary among `cases`, what each is about (a parameter,
    or a fact of the geometry), and their truth on each case: (texts, subjects, an array of
    shape (statements, cases))."""
    texts, subjects, rows = [], [], []

    def add(text: str, row: list[bool], subject: str) -> None:
        if any(row) and not all(row):
            texts.append(text)
            subjects.append(subject)
            rows.append(row)

    for name in PARAMETERS:
        values = [getattr(c, name) for c in cases]
        numbers = sorted({v for v in values if isinstance(v, int) and not isinstance(v, bool)})
        for threshold in numbers[1:]:  # thresholds read best: first
            above = [
                isinstance(v, int) and not isinstance(v, bool) and v >= threshold for v in values
            ]
            add(f"{name} >= {threshold}", above, name)
            add(f"{name} < {threshold}", [not a for a in above], name)
        for value in sorted(set(values), key=str):
            add(f"{name} = {value}", [v == value for v in values], name)
            add(f"{name} != {value}", [v != value for v in values], name)
    for text, feature in DERIVED:
        truth = [bool(feature(c)) for c in cases]
        add(text, truth, text)
        add(f"not: {text}", [not t for t in truth], text)
    return texts, subjects, np.array(rows, dtype=bool).reshape(len(rows), len(cases))


def pattern(failing: list[Case], passing: list[Case]) -> str:
    """The simplest statement true of every failing case and of no passing one: one condition,
    else two together; "" when none separates them (or nothing passed to compare with). Where
    conditions on other parameters separate them as well, those are named too (up to
    ALSO_SEPARATING): the cases checked cannot tell which one the failures follow."""
    if not passing:
        return ""
    texts, subjects, truth = _conditions(failing + passing)
    fails = np.arange(truth.shape[1]) < len(failing)
    separates = truth[:, fails].all(axis=1) & ~truth[:, ~fails].any(axis=1)
    if separates.any():
        first = {}  # the first separating condition on each subject
        for i in np.flatnonzero(separates):
            first.setdefault(subjects[i], texts[i])
        found, *also = first.values()
        if not also:
            return f"fails exactly when {found}"
        others = " or ".join(also[:ALSO_SEPARATING])
        return f"fails exactly when {found} (or when {others}: the cases checked do not tell)"
    covers = np.flatnonzero(truth[:, fails].all(axis=1))  # a pair's members each hold for all
    for i, j in itertools.combinations(covers, 2):
        if not (truth[i] & truth[j])[~fails].any():
            return f"fails exactly when {texts[i]} and {texts[j]}"
    return ""
