"""What a run will do, decided before anything runs: its cases (one, or a config file's, or a
shard of them), its name in reports, and the files it must not overwrite."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check.case import Case
from .config import MAX_CASES, Entry, load, resolve


@dataclass(frozen=True)
class Plan:
    """The id-sorted entries of a run, its name ("conv1d-check smoke shard 2/4") and label
    ("shard 2/4"), and the files it reads (a config, the layers' files)."""

    entries: list[Entry]
    name: str = "conv1d-check"
    label: str = ""
    inputs: list[Path] = field(default_factory=list)


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' as (I, N) with 1 <= I <= N; ValueError with the rule otherwise."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"{text[:40]!r}: must be I/N with 1 <= I <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def shard(entries: list[Entry], index: int, count: int) -> list[Entry]:
    """Shard `index` of `count` (1-based), balanced by the cases that run.

    The id-sorted cases that run are dealt round-robin (case k to shard k mod count), and so
    are the skipped ones, separately: every shard gets its share of the work, and of each
    region of the id order (the large cases, the user-layer ones).
    """
    ordered = sorted(entries, key=lambda e: e.case.id)
    runs = [e for e in ordered if not e.skip][index - 1 :: count]
    skips = [e for e in ordered if e.skip][index - 1 :: count]
    return sorted(runs + skips, key=lambda e: e.case.id)


def plan(
    case: Case,
    *,
    config: str | Path | None = None,
    given: dict[str, Any] | None = None,
    shard_spec: tuple[int, int] | None = None,
    max_cases: int = MAX_CASES,
) -> Plan:
    """The run of `case` alone, or of a config file's cases with `given` (the options set on
    the command line) over its defaults; one shard of it with `shard_spec` (I, N).

    Raises InvalidParameter for a bad case, ConfigError for a bad config file.
    """
    if config is None:
        entries, name = [Entry(case.validate())], "conv1d-check"
    else:
        path = resolve(config)
        entries, name = load(path, given or {}, max_cases), f"conv1d-check {path.stem}"
    label = ""
    if shard_spec is not None:
        entries = shard(entries, *shard_spec)
        label = f"shard {shard_spec[0]}/{shard_spec[1]}"
    inputs = [resolve(config)] if config is not None else []
    inputs += sorted({_file(e.case.impl) for e in entries} - {None})
    return Plan(entries, f"{name} {label}".strip(), label, inputs)


def _file(impl: str) -> Path | None:
    target = impl.partition(":")[0]
    return Path(target) if target.endswith(".py") else None
