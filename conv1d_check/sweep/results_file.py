"""The --output results file: one JSON line per finished case, and reading it back to resume.

The file is locked while a sweep writes it: a second sweep on the same file is refused. A file
to resume from is read and every line checked before anything is changed: one that is not a
case's record is named and the file is left as it was; a partial last line (a kill in
mid-write) is cut off only then.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any, NamedTuple

from ..check.result import BadRecord, CaseResult, from_record
from ..report.records import to_json
from .config import Entry
from .stamp import Stamp, read_stamp


class ResultsFileError(ValueError):
    """A results file that cannot be written, or resumed from."""


class ResultsFile:
    """--output: one JSON line per finished case, written and flushed as it finishes, in the
    order cases finish."""

    def __init__(self, path: Path, resume: bool, stamp: Stamp | None = None):
        self.path = path
        self.stamp = {"run": stamp.record()} if stamp else {}
        self.notes: list[str] = []
        if path.is_dir():
            raise ResultsFileError(f"{path}: is a directory")
        try:
            self.stream = path.open("a", encoding="utf-8")  # nothing is cut before the lock
        except OSError as error:
            raise ResultsFileError(f"{path}: cannot write it: {error.strerror}") from None
        try:
            fcntl.flock(self.stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.stream.close()
            raise ResultsFileError(
                f"{path}: another conv1d-check is writing it; wait for it, or use another file"
            ) from None
        try:
            self.results, end = read_results(path)[:2] if resume else ([], 0)
        except ResultsFileError:
            self.close()
            raise
        self.stream.truncate(end)  # a partial last line, or the whole file when not resuming

    def done(self, entries: list[Entry]) -> dict[str, CaseResult]:
        """The recorded results of these entries (the last line of an id wins)."""
        wanted = {entry.case.id: entry.case for entry in entries}
        found, other, changed = {}, 0, set()
        for result in self.results:
            case = wanted.get(result.id)
            if case is None:
                other += 1
            elif _plain(result.case.params()) != _plain(case.params()):
                changed.add(result.id)
            else:
                found[result.id] = result
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
        self.stream.write(to_json(result.to_record() | self.stamp) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()  # and with it the lock


class Read(NamedTuple):
    """A results file's records: the results, where the complete lines end, each record's
    run stamp (None where it has none)."""

    results: list[CaseResult]
    end: int
    stamps: list[Stamp | None]


def read_results(path: Path) -> Read:
    """The results recorded in a file, where its complete lines end (a partial last line is
    left out), and their stamps. ResultsFileError names the first line that is not a case's
    record."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ResultsFileError(f"{path}: cannot read it: {error.strerror}") from None
    end = data.rfind(b"\n") + 1
    results, stamps = [], []
    for number, line in enumerate(data[:end].splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            results.append(from_record(record))
            stamps.append(read_stamp(record.get("run") if isinstance(record, dict) else None))
        except (ValueError, RecursionError) as error:
            why = error if isinstance(error, BadRecord) else "not JSON"
            raise ResultsFileError(
                f"{path}: line {number} is not a case's record ({why}); the file is unchanged"
            ) from None
    return Read(results, end, stamps)


def _plain(value: Any) -> Any:
    """`value` as it reads back from the results file."""
    return json.loads(to_json(value))
