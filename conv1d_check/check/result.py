"""What a check concludes: a case's status and result, a run's verdict, and the JSON record of a
result (written to --json and the results file, and read back from it).

"Passed" has one definition: a case passed when its status is PASS; a run's verdict is PASS
when no case failed or errored and at least one passed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from . import saved
from .case import FIELDS, Case, check_field
from .diagnosis.finding import Finding
from .tolerance import TensorError


class Status(StrEnum):
    """A case's outcome."""

    PASS = "pass"
    FAIL = "fail"  # a tensor is wrong, missing, or of the wrong shape or dtype
    ERROR = "error"  # the layer could not be run (it raised, hung, died...)
    SKIP = "skip"  # the layer cannot take these parameters, or Conv1d refuses them


class Verdict(StrEnum):
    """A run's outcome, whatever the number of cases."""

    PASS = "PASS"
    FAIL = "FAIL"
    NOTHING_CHECKED = "NOTHING CHECKED"  # no case was judged: all skipped, or none at all
    INTERRUPTED = "INTERRUPTED"
    INCOMPLETE = "INCOMPLETE"  # a report whose records lack cases of their sweep: a shard


def verdict_of(statuses: Iterable[Status], interrupted: bool = False, missing: int = 0) -> Verdict:
    """The verdict of a run whose cases ended with `statuses`, `missing` of its cases not
    reported (a report over some of the shards)."""
    counts = Counter(statuses)
    if interrupted:
        return Verdict.INTERRUPTED
    if counts[Status.FAIL] or counts[Status.ERROR]:
        return Verdict.FAIL
    if missing:
        return Verdict.INCOMPLETE
    return Verdict.PASS if counts[Status.PASS] else Verdict.NOTHING_CHECKED


@dataclass
class CaseResult:
    """The outcome of one case: what the table, the JSON and JUnit are made from.

    errors and torch_errors: per tensor (y, dX, dW, db), the layer's and torch's own distance
    from the float64 truth; shapes: the true shape of each judged tensor; missing: why a
    judged tensor has no errors ("not implemented", "not given"); consistency: whether each
    of the layer's gradients is the gradient of its own forward (checked for failures);
    arrays: when kept (the API keeps them; the command line for --save and --html), the case's
    numbers by name: x, W, b, dy, and per tensor T truth_T, layer_T, error_T = |layer - truth|
    and allowed_T, each element's allowance, in T's shape.
    """

    case: Case
    status: Status
    errors: dict[str, TensorError] = field(default_factory=dict)
    torch_errors: dict[str, TensorError] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    consistency: dict[str, bool] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)  # the findings in words
    findings: list[Finding] = field(default_factory=list)
    where: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    message: str = ""
    convention: str | None = None
    layer_output: str = ""
    seconds: float = 0.0
    layout: str | None = None  # the axes the user's layer took its tensors in
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    traceback: list[dict] = field(default_factory=list)  # the layer's frames, if it raised

    @property
    def id(self) -> str:
        return self.case.id

    def __repr__(self) -> str:
        """`CaseResult(id, fail, worst: dW at 1.2e+03 of its allowance)`: the whole is --json's."""
        shares = {name: e.share for name, e in self.errors.items()}
        worst = max(shares, key=shares.get, default=None)
        tail = f", worst: {worst} at {shares[worst]:.3g} of its allowance" if worst else ""
        return f"CaseResult({self.id}, {self.status}{tail})"

    def save(self, path: str | Path) -> None:
        """Write the kept arrays to an .npz file (check/saved.py)."""
        saved.save(path, [self])

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        """Jupyter's view: the table and the explanation, as at a terminal, and heatmaps."""
        from ..report.notebook import case_bundle  # report renders; check holds the results

        return case_bundle(self)

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]

    @property
    def passed(self) -> bool:
        return self.status == Status.PASS

    @property
    def headline(self) -> str:
        """What is wrong, in one line: the first diagnosis, else the message's first line."""
        lines = [*self.diagnosis, *self.message.splitlines()]
        return lines[0] if lines else str(self.status)

    @property
    def torch_is_truth(self) -> bool:
        """The float64 truth is torch itself (float64 on the CPU): torch's error is nil."""
        return self.case.device == "cpu" and self.case.dtype == "float64"

    def why_missing(self, name: str) -> str:
        """Why tensor `name` has no errors to show: not implemented, not given, or its shape
        or dtype is not torch's."""
        return self.missing.get(name, "wrong shape or dtype")

    def to_record(self) -> dict[str, Any]:
        """The JSON record of docs/design.md §2 (non-finite numbers are the writer's business)."""
        record: dict[str, Any] = {
            "id": self.id,
            "params": self.case.params(),
            "status": str(self.status),
        }
        if self.status in (Status.PASS, Status.FAIL) or self.errors:  # an error's y, judged
            record["errors"] = {name: _error_record(e) for name, e in self.errors.items()}
            record["torch_errors"] = {n: _error_record(e) for n, e in self.torch_errors.items()}
            record["shapes"] = {name: list(shape) for name, shape in self.shapes.items()}
            record["missing"] = self.missing
        return record | {
            "consistency": self.consistency,
            "diagnosis": self.diagnosis,
            "findings": [f.to_record() for f in self.findings],
            "where": self.where,
            "notes": self.notes,
            "message": self.message,
            "convention": self.convention,
            "layer_output": self.layer_output,
            "seconds": round(self.seconds, 4),
            "layout": self.layout,
            "traceback": self.traceback,
        }


@dataclass
class RunResult:
    """A run of many cases (a sweep; one command line is a sweep of one), in id order: those
    run now and those read back from a results file."""

    results: list[CaseResult]
    total: int  # cases in the run (this shard), finished or not
    seconds: float  # the command's wall time; a report's: the cases' seconds summed
    interrupted: bool = False  # by Ctrl-C
    stopped: bool = False  # by --max-failures
    resumed: int = 0  # results read back from the results file
    notes: list[str] = field(default_factory=list)
    workers: int = 0  # processes that ran the cases run now (1: the tool's own; 0: none ran)
    missing: int = 0  # a report's: cases of the sweep that no file records (a shard)
    merged: bool = False  # a report's, read from files: `seconds` is the cases' summed

    @property
    def verdict(self) -> Verdict:
        return verdict_of((r.status for r in self.results), self.interrupted, self.missing)

    def __repr__(self) -> str:
        """`RunResult(FAIL: 160 case(s), 150 pass, 10 fail)`."""
        counts = Counter(r.status for r in self.results)
        tally = "".join(f", {counts[s]} {s}" for s in Status if counts[s])
        return f"RunResult({self.verdict}: {len(self.results)} case(s){tally})"

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        """Jupyter's view: the failure groups and the verdict, as at a terminal."""
        from ..report.notebook import run_bundle

        return run_bundle(self)

    def _repr_html_(self) -> str:
        return self._repr_mimebundle_()["text/html"]


ERROR_FIELDS = ("max_abs", "max_rel", "allowed", "mismatched", "total", "worst_index")


def _error_record(error: TensorError) -> dict[str, Any]:
    return {name: getattr(error, name) for name in ERROR_FIELDS} | {
        "worst_index": list(error.worst_index),
        "share": error.share,
        "rule": error.rule,
    }


class BadRecord(ValueError):
    """A JSON record that is not a case's result (hand-edited, or from another tool)."""


def from_record(record: Any) -> CaseResult:
    """A CaseResult from its JSON record; BadRecord says what is wrong with it."""
    if not isinstance(record, dict):
        raise BadRecord("not a JSON object")
    _expect(record, "id", str)
    params = _expect(record, "params", dict)
    unknown = sorted(set(params) - set(FIELDS))
    if unknown:
        raise BadRecord(f"params has unknown keys {unknown[:3]}")
    try:  # each value by its own rule: a skip's combination may be one Conv1d refuses, and
        # the layer's file need not exist where the results are read
        for name, value in params.items():
            if name == "impl":
                _expect(params, name, str)
            else:
                check_field(name, value)
        case = Case(**params)
    except (ValueError, TypeError) as error:
        raise BadRecord(f"params: {error}") from None
    if case.id != record["id"]:
        raise BadRecord(f"id {record['id']!r} does not match its params ({case.id})")
    try:
        status = Status(record.get("status"))
    except ValueError:
        raise BadRecord(f"status must be one of {', '.join(Status)}") from None
    if status != Status.SKIP:  # a case that ran: Conv1d took its parameters
        try:
            case.spec  # noqa: B018 (building the spec checks Conv1d's rules)
            case.output_length  # noqa: B018
        except ValueError as error:
            raise BadRecord(f"params: {error}, yet the case ran") from None
    _check_fields(record)
    return CaseResult(
        case,
        status,
        errors=_errors(record, "errors"),
        torch_errors=_errors(record, "torch_errors"),
        shapes={name: tuple(s) for name, s in _optional(record, "shapes", dict).items()},
        missing=_optional(record, "missing", dict),
        consistency=_optional(record, "consistency", dict),
        diagnosis=_optional(record, "diagnosis", list),
        findings=_findings(record),
        where=_optional(record, "where", dict),
        notes=_optional(record, "notes", list),
        message=_optional(record, "message", str),
        convention=record.get("convention"),
        layer_output=_optional(record, "layer_output", str),
        seconds=float(_optional(record, "seconds", (int, float)) or 0.0),
        layout=record["layout"] if isinstance(record.get("layout"), str) else None,
        traceback=_optional(record, "traceback", list),
    )


def _check_fields(record: dict) -> None:
    """BadRecord naming the first field whose values are not what the tool writes."""
    for name, shape in _optional(record, "shapes", dict).items():
        if not (isinstance(shape, list) and all(_count(n) for n in shape)):
            raise BadRecord(f"shapes.{name} must be a list of sizes")
    for key in ("diagnosis", "notes"):
        if not all(isinstance(text, str) for text in _optional(record, key, list)):
            raise BadRecord(f"{key} must be a list of texts")
    for key, kind in (("missing", str), ("consistency", bool), ("where", dict)):
        if not all(isinstance(v, kind) for v in _optional(record, key, dict).values()):
            raise BadRecord(f"{key} must map tensor names to {kind.__name__} values")
    if not all(
        isinstance(text, str) for part in record.get("where", {}).values() for text in part.values()
    ):
        raise BadRecord("where must map tensor names to texts by axis")
    if not isinstance(record.get("convention"), str | None):
        raise BadRecord("convention must be a text")
    if not all(isinstance(frame, dict) for frame in _optional(record, "traceback", list)):
        raise BadRecord("traceback must be a list of frames")
    seconds = _optional(record, "seconds", (int, float))
    if isinstance(seconds, bool) or not 0 <= seconds < math.inf:
        raise BadRecord("seconds must be a finite number, not negative")


def _count(value: Any) -> bool:
    """Whether `value` is a count or an index: an int >= 0 (JSON's 3, not 3.0 or true)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _findings(record: dict) -> list[Finding]:
    try:
        return [Finding.from_record(f) for f in _optional(record, "findings", list)]
    except (KeyError, TypeError, ValueError) as error:
        raise BadRecord(f"findings: {error}") from None


def _expect(record: dict, key: str, kind: type) -> Any:
    if not isinstance(record.get(key), kind):
        raise BadRecord(f"{key} must be a {kind.__name__}")
    return record[key]


def _optional(record: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    """record[key] if present (of type `kind`), else that type's empty value."""
    if key not in record:
        return (kind[0] if isinstance(kind, tuple) else kind)()
    if not isinstance(record[key], kind):
        raise BadRecord(f"{key} has the wrong type")
    return record[key]


def _errors(record: dict, key: str) -> dict[str, TensorError]:
    def number(value: Any) -> float:
        if value is None:
            return math.nan  # null was a NaN or an inf
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRecord(f"{key}: a number is not a number")
        return float(value)

    found = {}
    for name, e in _optional(record, key, dict).items():
        if not isinstance(e, dict) or any(f not in e for f in ERROR_FIELDS):
            raise BadRecord(f"{key}.{name} must hold {', '.join(ERROR_FIELDS)}")
        if not (isinstance(e["worst_index"], list) and all(map(_count, e["worst_index"]))):
            raise BadRecord(f"{key}.{name}.worst_index must be a list of indices")
        for counted in ("mismatched", "total"):
            if not _count(e[counted]):
                raise BadRecord(f"{key}.{name}.{counted} must be a count (an integer >= 0)")
        found[name] = TensorError(
            number(e["max_abs"]),
            number(e["max_rel"]),
            number(e["allowed"]),
            e["mismatched"],
            e["total"],
            tuple(e["worst_index"]),
            share=number(e.get("share", 0.0)),
            rule=str(e.get("rule", "")),
        )
    return found
