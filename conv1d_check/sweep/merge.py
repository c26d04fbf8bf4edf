"""Results files (one per shard) read back and merged into one run, for `conv1d-check report`.
Nothing runs and torch is not imported.

A report must never be greener than its files: a last line cut short (a sweep killed while
writing it) is refused unless it is a whole record, and one case recorded twice with other
parameters or another verdict is refused, naming both lines.
"""

from __future__ import annotations

from pathlib import Path

from ..check.result import CaseResult, RunResult
from ..report.groups import natural_key
from .results_file import ResultsFileError, plain, read_numbered, record
from .stamp import coverage


def merge(paths: list[Path], allow_mixed: bool = False) -> tuple[RunResult, list[str], str]:
    """One run of every case in the files, notes on what was merged and what is missing (by
    the records' run stamps: `stamp.coverage`), and the sweep's name. A case recorded more
    than once, alike, counts once and is reported. MixedRuns for records of several runs,
    unless `allow_mixed`."""
    found: dict[str, tuple[CaseResult, str]] = {}  # id -> its result, and where (file:line)
    repeated: set[str] = set()
    stamped = []
    for path in paths:
        if not path.is_file():
            raise ResultsFileError(
                f"{path}: {'is a directory' if path.is_dir() else 'no such file'}"
            )
        for where, result, stamp in _records(path):
            if result.id in found:
                _refuse_conflict(found[result.id], (result, where))
                repeated.add(result.id)
            found[result.id] = (result, where)
            stamped.append((result, stamp, path))
    covered = coverage(stamped, allow_mixed)
    notes = [f"merged {len(found)} case(s) from {len(paths)} file(s)"]
    if repeated:
        twice = sorted(repeated, key=natural_key)
        notes.append(
            f"{len(twice)} case(s) recorded more than once, alike, counted once: "
            f"{', '.join(twice[:5])}{' ...' if len(twice) > 5 else ''}"
        )
    results = sorted((result for result, _ in found.values()), key=lambda r: natural_key(r.id))
    seconds = sum(r.seconds for r in results)
    total = len(results) + covered.missing
    run = RunResult(results, total, seconds, missing=covered.missing, merged=True)
    return run, notes + covered.notes, covered.sweep


def _records(path: Path) -> list[tuple]:
    """(file:line, result, run stamp) of every record of a file, a whole last line without its
    newline included; a last line cut short is a ResultsFileError."""
    numbered, _, partial = read_numbered(path)
    if partial is not None:
        number, line = partial
        try:
            numbered.append((number, *record(path, number, line)))
        except ResultsFileError:
            raise ResultsFileError(
                f"{path}: line {number} is cut short (a sweep killed while writing it?): its "
                "case would be missing from the report; rerun that shard, or remove the line"
            ) from None
    return [(f"{path}:{number}", result, stamp) for number, result, stamp in numbered]


def _refuse_conflict(first: tuple[CaseResult, str], second: tuple[CaseResult, str]) -> None:
    """A ResultsFileError when two records of one case differ in parameters or verdict."""
    (a, where_a), (b, where_b) = first, second
    if plain(a.case.params()) != plain(b.case.params()):
        what = "other parameters"
    elif a.status != b.status:
        what = f"another verdict ({a.status} and {b.status})"
    else:
        return
    raise ResultsFileError(
        f"{a.id} is recorded at {where_a} and at {where_b} with {what}: keep one of them"
    )
