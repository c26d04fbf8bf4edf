"""The --output results file: one JSON line per finished case, and reading it back to resume."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..check.case import FIELDS, Case
from ..check.tolerance import TensorError
from ..check.verify import CaseResult
from ..report.terminal import to_json
from .config import Entry


class ResultsFileError(ValueError):
    """A results file that cannot be written, or resumed from (a broken line, not the last)."""


class ResultsFile:
    """--output: one JSON line per finished case, written and flushed as it finishes.

    Lines are in the order cases finished. Opened for resuming, a partial last
    line (a kill in mid-write) is cut off before anything is appended.
    """

    def __init__(self, path: Path, resume: bool):
        self.path = path
        self.notes: list[str] = []
        try:
            self.records = read_records(path) if resume else []
            self.stream = path.open("a" if resume else "w", encoding="utf-8")
        except OSError as error:
            raise ResultsFileError(f"{path}: cannot use it: {error.strerror}") from None

    def done(self, entries: list[Entry]) -> dict[str, CaseResult]:
        """The recorded results of these entries (the last line of an id wins)."""
        wanted = {entry.case.id: entry.case for entry in entries}
        found, other, changed = {}, 0, set()
        for record in self.records:
            case = wanted.get(record["id"])
            if case is None:
                other += 1
            elif record.get("params") != _plain(case.params()):
                changed.add(record["id"])
            else:
                found[record["id"]] = from_record(record)
        if other:
            self.notes.append(f"{other} line(s) of {self.path} are for cases not in this sweep")
        if changed - set(found):
            self.notes.append(
                f"{len(changed - set(found))} case(s) of {self.path} were recorded with other "
                "parameters (impl, timeout...): they run again"
            )
        if found:
            self.notes.append(f"resumed: {len(found)} case(s) read from {self.path}")
        return found

    def write(self, result: CaseResult) -> None:
        self.stream.write(to_json(result.to_dict()) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


def read_records(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a results file, parsed; a partial last line is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        os.truncate(path, end)
    records = []
    for number, line in enumerate(data[:end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not all(
            isinstance(record.get(key), kind)
            for key, kind in (("id", str), ("params", dict), ("status", str))
        ):
            raise ResultsFileError(
                f"{path}: line {number} is not a case's JSON record; remove it to resume"
            )
        records.append(record)
    return records


def from_record(record: dict[str, Any]) -> CaseResult:
    """A CaseResult from its JSON record (what `CaseResult.to_dict` gave; shapes are not kept)."""
    case = Case(**{k: v for k, v in record["params"].items() if k in FIELDS})
    return CaseResult(
        case,
        record["status"],
        errors=_tensor_errors(record.get("errors", {})),
        torch_errors=_tensor_errors(record.get("torch_errors", {})),
        diagnosis=record.get("diagnosis", []),
        where=record.get("where", {}),
        notes=record.get("notes", []),
        message=record.get("message", ""),
        convention=record.get("convention"),
        layer_output=record.get("layer_output", ""),
        seconds=record.get("seconds", 0.0),
    )


def _tensor_errors(records: dict[str, dict[str, Any]]) -> dict[str, TensorError]:
    def number(value: float | None) -> float:
        return float("nan") if value is None else value  # null was a NaN or an inf

    return {
        name: TensorError(
            number(e["max_abs"]),
            number(e["max_rel"]),
            number(e["allowed"]),
            e["mismatched"],
            e["total"],
            tuple(e["worst_index"]),
        )
        for name, e in records.items()
    }


def _plain(value: Any) -> Any:
    """`value` as it reads back from the results file."""
    return json.loads(to_json(value))
