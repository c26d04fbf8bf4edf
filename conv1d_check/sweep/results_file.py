"""The --output results file: one JSON line per finished case, and reading it back to resume.

The file is locked while a sweep writes it: a second sweep on the same file is refused. A file
to resume from is read and every line checked before anything is changed: one that is not a
case's record is named and the file is left as it was; a partial last line (a kill in
mid-write) is cut off only then.
"""

from __future__ import annotations

import fcntl
import json
from contextlib import suppress
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
        refuse_special(path)
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
            elif plain(result.case.params()) != plain(case.params()):
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
        """Append `result`'s record; a full disk is a ResultsFileError that says what is kept."""
        try:
            self.stream.write(to_json(result.to_record() | self.stamp) + "\n")
            self.stream.flush()
        except OSError as error:
            raise ResultsFileError(
                f"{self.path}: cannot write it ({error.strerror}); the cases recorded before "
                "are kept (a partial last line is cut by --resume)"
            ) from None

    def close(self) -> None:
        with suppress(OSError):  # what a full disk left unwritten is lost either way
            self.stream.close()  # and with it the lock


LINE_LIMIT = 64 << 20  # bytes of one record: far beyond any real one (output is capped at 1 MiB)


class Read(NamedTuple):
    """A results file's records: the results, where the complete lines end, each record's
    run stamp (None where it has none)."""

    results: list[CaseResult]
    end: int
    stamps: list[Stamp | None]


def read_results(path: Path) -> Read:
    """The results recorded in a file, where its complete lines end (a partial last line, a
    kill in mid-write, is left out), and their stamps. ResultsFileError names the first line
    that is not a case's record."""
    numbered, end, _ = read_numbered(path)
    return Read([r for _, r, _ in numbered], end, [stamp for _, _, stamp in numbered])


def read_numbered(
    path: Path,
) -> tuple[list[tuple[int, CaseResult, Stamp | None]], int, tuple | None]:
    """(line number, result, run stamp) of each record, where the complete lines end, and a
    last line without its newline as (number, bytes) (None when there is none). The file is
    read a line at a time: a line over LINE_LIMIT bytes, or a file that is not a regular
    file, is a ResultsFileError."""
    refuse_special(path)
    numbered, end, partial = [], 0, None
    try:
        with path.open("rb") as stream:
            for number, line in enumerate(iter(lambda: stream.readline(LINE_LIMIT + 1), b""), 1):
                if len(line) > LINE_LIMIT:
                    raise ResultsFileError(
                        f"{path}: line {number} is longer than {LINE_LIMIT >> 20} MiB: not a "
                        "case's record; the file is unchanged"
                    )
                if not line.endswith(b"\n"):
                    partial = (number, line) if line.strip() else None
                    break
                end += len(line)
                if line.strip():
                    numbered.append((number, *record(path, number, line)))
    except OSError as error:
        raise ResultsFileError(f"{path}: cannot read it: {error.strerror}") from None
    return numbered, end, partial


def record(path: Path, number: int, line: bytes) -> tuple[CaseResult, Stamp | None]:
    """The result a line records, and its run stamp; ResultsFileError names the line when it
    is no record."""
    try:
        data = json.loads(line)
        return from_record(data), read_stamp(data.get("run") if isinstance(data, dict) else None)
    except (ValueError, RecursionError) as error:
        why = error if isinstance(error, BadRecord) else "not JSON"
        raise ResultsFileError(
            f"{path}: line {number} is not a case's record ({why}); the file is unchanged"
        ) from None


def refuse_special(path: Path) -> None:
    """A ResultsFileError for a path that exists and is not a regular file (a FIFO, which
    would block; a device such as /dev/zero, which never ends)."""
    if path.exists() and not path.is_file() and not path.is_dir():
        raise ResultsFileError(f"{path}: not a regular file (a pipe or a device): give a file")


def plain(value: Any) -> Any:
    """`value` as it reads back from the results file."""
    return json.loads(to_json(value))
