"""What a run will do, decided before anything runs: its cases (one, or a config file's, or a
shard of them), its name in reports, and the files it must not overwrite."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check.case import Case
from ..check.inputs import ARRAYS
from ..check.inputs import fit as fit_inputs
from ..check.inputs import load as load_inputs
from .config import MAX_CASES, Entry, load, resolve
from .stamp import Stamp, stamp


@dataclass(frozen=True)
class Plan:
    """The id-sorted entries of a run, its name ("conv1d-check smoke shard 2/4") and label
    ("shard 2/4"), the files it reads (a config, the layers' files), and the stamp its
    records carry (None: they carry none)."""

    entries: list[Entry]
    name: str = "conv1d-check"
    label: str = ""
    inputs: list[Path] = field(default_factory=list)
    stamp: Stamp | None = None


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' as (I, N) with 1 <= I <= N; ValueError with the rule otherwise."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*/\s*(\d{1,9})\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"{text[:40]!r}: must be I/N with 1 <= I <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


# Where `--shard auto` finds its shard: the engine's variables for the index and the count.
SLURM = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT")
GITLAB = ("CI_NODE_INDEX", "CI_NODE_TOTAL")


def shard_from(text: str, environ: Mapping[str, str]) -> tuple[tuple[int, int], str]:
    """--shard: 'I/N', or 'auto' from a Slurm job array or GitLab's `parallel:` in `environ`;
    (I, N) and where it was found ('' for I/N). ValueError with the rule otherwise."""
    if text.strip() != "auto":
        return parse_shard(text), ""
    if all(name in environ for name in SLURM):
        task, first, count = (_integer(environ, name) for name in SLURM)
        step = max(_integer(environ, "SLURM_ARRAY_TASK_STEP", "1"), 1)
        index, off_step = divmod(task - first, step)
        found = ", ".join(f"{name}={environ[name]}" for name in SLURM)
        if off_step or not 0 <= index < count:
            raise ValueError(f"auto: {found}: the job array's indices must be evenly spaced")
        return (index + 1, count), f"a Slurm job array ({found})"
    if all(name in environ for name in GITLAB):
        found = ", ".join(f"{name}={environ[name]}" for name in GITLAB)
        try:
            return parse_shard(f"{environ[GITLAB[0]]}/{environ[GITLAB[1]]}"), f"GitLab ({found})"
        except ValueError:
            raise ValueError(f"auto: {found}: must be 1 <= index <= total") from None
    raise ValueError(
        f"auto: found neither a Slurm job array ({', '.join(SLURM)}) nor GitLab's parallel: "
        f"({', '.join(GITLAB)}); give I/N"
    )


def _integer(environ: Mapping[str, str], name: str, default: str = "") -> int:
    value = environ.get(name, default)
    if not value.strip().isdigit():
        raise ValueError(f"auto: {name}={value[:20]!r} is not a whole number")
    return int(value)


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

    A single case with inputs takes the shapes its arrays set (check/inputs.py). Raises
    InvalidParameter for a bad case or inputs, ConfigError for a bad config file.
    """
    if config is None:
        if case.inputs is not None:  # the user's own tensors set the shapes left open
            case = fit_inputs(case, load_inputs(case.inputs), set(given or {}))
        entries, name = [Entry(case.validate())], "conv1d-check"
    else:
        path = resolve(config)
        entries, name = load(path, given or {}, max_cases), f"conv1d-check {path.stem}"
    label, everything = "", entries
    if shard_spec is not None:
        entries = shard(entries, *shard_spec)
        label = f"shard {shard_spec[0]}/{shard_spec[1]}"
    inputs = [resolve(config)] if config is not None else []
    inputs += sorted({_file(e.case.impl) for e in entries} - {None})
    inputs += sorted({Path(e.case.inputs) for e in entries if e.case.inputs not in (None, ARRAYS)})
    its_stamp = stamp(name, everything, entries, shard_spec or (1, 1))
    return Plan(entries, f"{name} {label}".strip(), label, inputs, its_stamp)


def _file(impl: str) -> Path | None:
    target = impl.partition(":")[0]
    return Path(target) if target.endswith(".py") else None
