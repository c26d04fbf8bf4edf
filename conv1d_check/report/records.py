"""Results as strict JSON: the --json document and the lines of the results file."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..check.case import Case
from ..check.result import RunResult, Status, Verdict
from .groups import Group

SUMMARY_KEYS = {
    Status.PASS: "passed",
    Status.FAIL: "failed",
    Status.ERROR: "errored",
    Status.SKIP: "skipped",
}


def _strict(value: Any) -> Any:
    """Replace NaN and inf by None, so that the JSON is strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def to_json(record: Any) -> str:
    """Strict JSON (non-finite numbers as null) on one line."""
    try:
        return json.dumps(record, allow_nan=False)
    except ValueError:  # a NaN or an inf somewhere: rare, so looked for only then
        return json.dumps(_strict(record), allow_nan=False)


def summary(run: RunResult) -> dict[str, int]:
    """{"total", "passed", "failed", "errored", "skipped"}: total counts the cases that did not
    run (interrupted, stopped) as well."""
    counts = Counter(r.status for r in run.results)
    return {"total": run.total} | {key: counts[s] for s, key in SUMMARY_KEYS.items()}


def group_record(group: Group, command: Callable[[Case], str]) -> dict[str, Any]:
    return {
        "status": str(group.status),
        "what": group.what,
        "count": len(group.results),
        "pattern": group.pattern,
        "smallest": group.smallest.id,
        "command": command(group.smallest.case),
        "cases": [r.id for r in group.results],
    }


def results_json(run: RunResult, groups: list[Group], command: Callable[[Case], str]) -> str:
    """The --json document: {"verdict", "passed", "summary", "groups", "cases"}."""
    return to_json(
        {
            "verdict": str(run.verdict),
            "passed": run.verdict == Verdict.PASS,
            "summary": summary(run),
            "groups": [group_record(g, command) for g in groups],
            "cases": [r.to_record() for r in run.results],
        }
    )
