"""Results into a rich table, a sweep's progress and summary, strict JSON and JUnit XML."""

from __future__ import annotations

import json
import math
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..check.verify import CaseResult

STYLES = {"pass": "green", "fail": "bold red", "error": "bold magenta", "skip": "yellow"}


def _num(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def case_table(result: CaseResult) -> Table:
    """One row per tensor: shape, the layer's errors against the oracle, torch's own, verdict."""
    table = Table(title=f"{result.id}  ·  layer: {result.convention}", title_justify="left")
    for column in ("tensor", "shape", "max abs", "max rel", "allowed", "mismatched", "worst index"):
        table.add_column(column, justify="left" if column in ("tensor", "shape") else "right")
    table.add_column("torch abs", justify="right")
    table.add_column("result")
    for name, shape in result.shapes.items():
        theirs = _num(result.torch_errors[name].max_abs)
        error = result.errors.get(name)
        if error is None:
            table.add_row(
                name, str(shape), "-", "-", "-", "-", "-", theirs, Text("FAIL", STYLES["fail"])
            )
            continue
        verdict = "pass" if error.passed else "fail"
        table.add_row(
            name,
            str(shape),
            _num(error.max_abs),
            _num(error.max_rel),
            _num(error.allowed),
            f"{error.mismatched}/{error.total}",
            str(tuple(error.worst_index)),
            theirs,
            Text(verdict.upper(), STYLES[verdict]),
        )
    return table


def print_case(result: CaseResult, console: Console, quiet: bool = False) -> None:
    """The table of one case, then its message, diagnosis and what the layer printed."""
    if quiet and result.passed:
        return
    if result.shapes:
        console.print(case_table(result))
    else:
        status = Text(result.status.upper(), STYLES[result.status])
        console.print(Text.assemble(status, f"  {result.id}  ·  layer: {result.convention}"))
    for line in result.message.splitlines():
        console.print(line, markup=False, highlight=False)
    for line in [f"diagnosis: {d}" for d in result.diagnosis] + _where(result):
        console.print(f"  {line}", markup=False, highlight=False)
    for note in result.notes:
        console.print(f"  note: {note}", markup=False, highlight=False)
    if result.layer_output and not result.passed:
        console.print("  the layer printed:", markup=False)
        console.print(result.layer_output.rstrip(), markup=False, highlight=False)


def _where(result: CaseResult) -> list[str]:
    """One line per failing tensor: 'x' marks where it is off along each axis that is
    not off everywhere."""
    lines = []
    for name, axes in result.where.items():
        partial = [f"by {axis} {strip}" for axis, strip in axes.items() if "." in strip]
        everywhere = [axis for axis, strip in axes.items() if "." not in strip]
        if everywhere:
            partial.append(f"in every {' and '.join(everywhere)}")
        lines.append(f"where {name} is off: {'; '.join(partial)}")
    return lines


def print_summary(
    results: Sequence[CaseResult],
    console: Console,
    seconds: float,
    total: int | None = None,
    interrupted: bool = False,
    list_skipped: bool = False,
    label: str = "",
) -> None:
    """A sweep's last words: its failures (id, first line, diagnosis), its skips, the verdict.

    A run of one case has shown its table already: only the verdict follows it.
    """
    if len(results) > 1 or interrupted:
        bad = [r for r in results if not r.passed]
        if bad:
            console.print(Text(f"{len(bad)} case(s) did not pass:", STYLES["fail"]))
        for result in bad:
            first = result.message.splitlines()[0] if result.message else ""
            status = Text(result.status.upper(), STYLES[result.status])
            console.print(Text.assemble("  ", status, f" {result.id}: {first}"), soft_wrap=True)
            for line in result.diagnosis:
                console.print(
                    f"      diagnosis: {line}", markup=False, highlight=False, soft_wrap=True
                )
        skipped = [r for r in results if r.status == "skip"]
        if skipped and list_skipped:
            console.print(f"{len(skipped)} case(s) skipped:", highlight=False)
            for result in skipped:
                console.print(
                    f"  {result.id}: {result.message}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
        elif skipped:
            console.print(
                f"{len(skipped)} case(s) skipped (--list-skipped lists them and why)",
                highlight=False,
            )
    print_verdict(results, console, seconds, total, interrupted, label)


def print_verdict(
    results: Sequence[CaseResult],
    console: Console,
    seconds: float,
    total: int | None = None,
    interrupted: bool = False,
    label: str = "",
) -> None:
    """`PASS: 3 case(s), 2 pass, 1 skip in 0.52 s`; INTERRUPTED with how many of `total` ran."""
    counts = Counter(r.status for r in results)
    passed = all(r.passed for r in results)
    word, style = ("PASS", "pass") if passed else ("FAIL", "fail")
    cases = f"{len(results)} case(s)"
    if interrupted:
        word, style = "INTERRUPTED", "error"
        cases = f"{len(results)} of {total if total is not None else '?'} case(s) finished"
    tally = ", ".join(f"{counts[s]} {s}" for s in ("pass", "fail", "error", "skip") if counts[s])
    where = f" ({label})" if label else ""
    console.print(
        Text.assemble(Text(word, STYLES[style]), f": {cases}, {tally} in {seconds:.2f} s{where}")
    )


class SweepProgress:
    """A sweep's progress on stderr: a rich bar on a terminal. In a log (no terminal), a
    plain line at each tenth of the way (`gap` seconds apart at least), and one every
    `every` seconds however slow it goes."""

    def __init__(self, console: Console | None = None, every: float = 30.0, gap: float = 5.0):
        self.console = console or Console(stderr=True)
        self.every, self.gap = every, gap
        self.bar: Progress | None = None
        self.counts: Counter[str] = Counter()

    def start(self, total: int) -> None:
        self.total, self.done, self.tenths = total, 0, 0
        self.started = self.last = time.monotonic()
        if total > 1 and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self._tally(), total=total)

    def advance(self, result: CaseResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=self._tally())
            return
        now, tenths = time.monotonic(), 10 * self.done // max(self.total, 1)
        quiet_for = now - self.last
        if self.total > 1 and (
            (tenths > self.tenths and quiet_for >= self.gap) or quiet_for >= self.every
        ):
            self.tenths, self.last = tenths, now
            share = 100 * self.done // self.total
            print(
                f"conv1d-check: {self.done}/{self.total} cases ({share}%), {self._tally()}, "
                f"{now - self.started:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _tally(self) -> str:
        return ", ".join(f"{self.counts[s]} {s}" for s in ("fail", "error", "skip"))


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


def results_json(results: Iterable[CaseResult]) -> str:
    """The --json document: {"passed": bool, "cases": [...]}."""
    cases = [r.to_dict() for r in results]
    return to_json({"passed": all(c["status"] in ("pass", "skip") for c in cases), "cases": cases})


def write_junit(results: Sequence[CaseResult], path: Path, suite: str = "conv1d-check") -> None:
    """One testcase per case; fail and error carry their explanation, skip its reason."""
    counts = Counter(r.status for r in results)
    root = ET.Element("testsuites")
    testsuite = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(counts["fail"]),
        errors=str(counts["error"]),
        skipped=str(counts["skip"]),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for result in results:
        testcase = ET.SubElement(
            testsuite, "testcase", classname=suite, name=result.id, time=f"{result.seconds:.3f}"
        )
        text = "\n".join([result.message, *result.diagnosis]).strip()
        first = text.splitlines()[0] if text else result.status
        if result.status == "fail":
            ET.SubElement(testcase, "failure", message=first).text = text
        elif result.status == "error":
            ET.SubElement(testcase, "error", message=first).text = text
        elif result.status == "skip":
            ET.SubElement(testcase, "skipped", message=first)
        if result.layer_output:
            ET.SubElement(testcase, "system-out").text = result.layer_output
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
