"""Results files (one per shard) read back and merged into one run, for `conv1d-check report`.
Nothing runs and torch is not imported."""

from __future__ import annotations

from pathlib import Path

from ..check.result import CaseResult, RunResult
from ..report.groups import natural_key
from .results_file import ResultsFileError, read_results
from .stamp import coverage


def merge(paths: list[Path], allow_mixed: bool = False) -> tuple[RunResult, list[str], str]:
    """One run of every case in the files, notes on what was merged and what is missing (by
    the records' run stamps: `stamp.coverage`), and the sweep's name. A case found in several
    files counts once (the last file's result) and is reported. MixedRuns for records of
    several runs, unless `allow_mixed`."""
    found: dict[str, CaseResult] = {}
    seen: dict[str, list[Path]] = {}
    stamped = []
    for path in paths:
        if not path.is_file():
            raise ResultsFileError(
                f"{path}: {'is a directory' if path.is_dir() else 'no such file'}"
            )
        read = read_results(path)
        for result, stamp in zip(read.results, read.stamps, strict=True):
            found[result.id] = result
            seen.setdefault(result.id, []).append(path)
            stamped.append((result, stamp, path))
    covered = coverage(stamped, allow_mixed)
    notes = [f"merged {len(found)} case(s) from {len(paths)} file(s)"]
    twice = sorted((i for i, files in seen.items() if len(files) > 1), key=natural_key)
    if twice:
        notes.append(
            f"{len(twice)} case(s) appear in more than one file, counted once (the last file's "
            f"result): {', '.join(twice[:5])}{' ...' if len(twice) > 5 else ''}"
        )
    results = sorted(found.values(), key=lambda r: natural_key(r.id))
    seconds = sum(r.seconds for r in results)
    total = len(results) + covered.missing
    run = RunResult(results, total, seconds, missing=covered.missing, merged=True)
    return run, notes + covered.notes, covered.sweep
