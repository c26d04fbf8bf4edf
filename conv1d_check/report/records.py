"""Results as strict JSON: the --json document and the lines of the results file."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

from ..check.result import RunResult, Status, Verdict

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


def results_json(run: RunResult) -> str:
    """The --json document: {"verdict", "passed", "summary", "cases"}."""
    counts = Counter(r.status for r in run.results)
    summary = {"total": run.total} | {key: counts[s] for s, key in SUMMARY_KEYS.items()}
    return to_json(
        {
            "verdict": str(run.verdict),
            "passed": run.verdict == Verdict.PASS,
            "summary": summary,
            "cases": [r.to_record() for r in run.results],
        }
    )
