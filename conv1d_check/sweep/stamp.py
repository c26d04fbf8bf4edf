"""Which run a results file's record comes from, and whether a set of records is the whole sweep.

Every record of a results file carries its run's stamp, the `run` object:

    "run": {"sweep": "conv1d-check mytorch", "digest": "9c1f04d2b7a3e815", "shard": [2, 3],
            "planned": 54, "cases": 160, "version": "0.1.0"}

`digest` is a hash of every case of the whole sweep (all shards together: ids and parameters,
the layer included), so two shards of one sweep share it and a sweep with another config, other
options or another layer does not; `planned` is how many cases its shard had to run, `cases`
how many the whole sweep has. `report` checks the records it merges against their stamps
(`coverage`): the shards that sent nothing, the cases a shard planned and did not record, and
records of different sweeps or versions, which it refuses to merge unless told to.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..check.result import BadRecord, CaseResult
from .config import Entry


@dataclass(frozen=True)
class Stamp:
    """A run's stamp: its sweep's name and digest, its shard (i, n), the cases the shard
    planned and the whole sweep's, the tool's version."""

    sweep: str
    digest: str
    shard: tuple[int, int]
    planned: int
    cases: int
    version: str = __version__

    def record(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep,
            "digest": self.digest,
            "shard": list(self.shard),
            "planned": self.planned,
            "cases": self.cases,
            "version": self.version,
        }

    @property
    def origin(self) -> str:
        """'conv1d-check mytorch (digest 9c1f04d2b7a3e815, 3 shards, version 0.1.0)'"""
        return f"{self.sweep} (digest {self.digest}, {self.shard[1]} shard(s), {self.version})"


def stamp(sweep: str, everything: list[Entry], shard: list[Entry], of: tuple[int, int]) -> Stamp:
    """The stamp of shard `of` (i, n) of the sweep whose cases are `everything`."""
    cases = sorted((e.case.id, e.case.params()) for e in everything)
    text = json.dumps(cases, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Stamp(sweep, digest, of, len(shard), len(everything))


def read_stamp(value: Any) -> Stamp | None:
    """A record's `run` object as a Stamp (None when the record has none: an older file);
    BadRecord says what is wrong with it."""
    if value is None:
        return None
    kinds = {"sweep": str, "digest": str, "shard": list, "planned": int, "cases": int}
    kinds["version"] = str
    if not isinstance(value, dict) or set(value) != set(kinds):
        raise BadRecord(f"run must be an object of {', '.join(kinds)}")
    for key, kind in kinds.items():
        if not isinstance(value[key], kind) or isinstance(value[key], bool):
            raise BadRecord(f"run.{key} must be a {kind.__name__}")
    shard = value["shard"]
    if not (len(shard) == 2 and all(type(i) is int for i in shard) and 1 <= shard[0] <= shard[1]):
        raise BadRecord("run.shard must be [i, n] with 1 <= i <= n")
    if not 0 <= value["planned"] <= value["cases"]:
        raise BadRecord("run.planned must be between 0 and run.cases")
    return Stamp(**(value | {"shard": tuple(shard)}))


class MixedRuns(ValueError):
    """Records of different sweeps, shardings or versions, merged without --allow-mixed."""


@dataclass
class Coverage:
    """What a set of records lacks: the cases known to be missing, and a line for each
    shard that sent nothing or less than it planned."""

    missing: int
    notes: list[str]
    sweep: str = "conv1d-check"  # the sweep's name, where the records are of one


def coverage(
    found: list[tuple[CaseResult, Stamp | None, Path]], allow_mixed: bool = False
) -> Coverage:
    """How complete the records are, each sweep (stamps that agree but for the shard) by its
    own stamps. MixedRuns when there are several sweeps, unless `allow_mixed`."""
    runs: dict[Any, dict[int, Stamp]] = defaultdict(dict)
    ids: dict[Any, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    files: dict[Any, set[str]] = defaultdict(set)
    for result, run, path in found:
        key = None if run is None else (run.sweep, run.digest, run.shard[1], run.version)
        files[key].add(str(path))
        if run is not None:
            runs[key][run.shard[0]] = run
            ids[key][run.shard[0]].add(result.id)
    if len(files) > 1 and not allow_mixed:
        origins = [
            f"{runs[k][min(runs[k])].origin if k else 'no run stamp'} in {', '.join(sorted(f))}"
            for k, f in files.items()
        ]
        raise MixedRuns(
            f"records of {len(files)} different runs (config, options, layer, shard count or "
            f"version): {'; '.join(origins)}. Merge them anyway with --allow-mixed"
        )
    unknown = "records without a run stamp: whether shards are missing is unknown"
    notes = [unknown] if None in files else []
    missing = 0
    for key, shards in runs.items():
        some = next(iter(shards.values()))
        count = some.shard[1]
        absent = [i for i in range(1, count + 1) if i not in shards]
        unreported = some.cases - sum(run.planned for run in shards.values())
        if absent and unreported:
            numbers = ", ".join(f"{i}/{count}" for i in absent)
            notes.append(
                f"missing: shard(s) {numbers} of {some.sweep}, {unreported} of {some.cases} "
                "case(s): no file holds any of their records"
            )
        for index, run in sorted(shards.items()):
            short = run.planned - len(ids[key][index])
            if short > 0:
                notes.append(
                    f"missing: {short} of the {run.planned} case(s) of shard {index}/{count} of "
                    f"{run.sweep} (interrupted or stopped early?)"
                )
                unreported += short
        missing += unreported
    names = {key[0] for key in runs}
    return Coverage(missing, notes, names.pop() if len(names) == 1 else "conv1d-check")
