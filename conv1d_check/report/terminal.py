"""Results for a person at a terminal (or in a CI log): a table per case, a summary, a verdict."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ..check.case import Case
from ..check.diagnosis.words import traceback_lines
from ..check.result import CaseResult, RunResult, Status, Verdict
from .groups import MAX_GROUPS, Group

if TYPE_CHECKING:
    from ..sweep.search import SearchResult
from .text import for_terminal, number

STYLES = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.SKIP: "yellow",
}
VERDICT_STYLES = {
    Verdict.PASS: "bold green",
    Verdict.FAIL: "bold red",
    Verdict.NOTHING_CHECKED: "bold yellow",
    Verdict.INTERRUPTED: "bold magenta",
    Verdict.INCOMPLETE: "bold yellow",
}
PRINTED_LINES = 8  # lines of a layer's output shown in the terminal
SHOWN_IDS = 5  # ids of a group's other cases shown
COLUMNS = ("tensor", "shape", "max abs", "max rel", "err/allowed", "allowed", "rule")
COLUMNS += ("mismatched", "worst index", "torch", "result")
LEFT = ("tensor", "shape", "rule")
# The columns of the table where the full one does not fit (80 columns: a notebook, a CI log).
COMPACT = ("tensor", "max abs", "max rel", "err/allowed", "mismatched", "result")


def stdout_console() -> Console:
    """Rich console for stdout; in a CI log (no terminal) a wide plain one, no control codes."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=150)
    return console


def _rows(result: CaseResult) -> list[dict[str, str | Text]]:
    """Each judged tensor's cells, by column (COLUMNS): the layer's errors against the truth,
    as a share of the allowance and the rule that set it; torch's own error; the verdict."""
    rows = []
    for name, shape in result.shapes.items():
        theirs = "truth" if result.torch_is_truth else number(result.torch_errors[name].max_abs)
        error = result.errors.get(name)
        if error is None:
            why = result.why_missing(name)
            cells = [name, str(shape), why] + ["-"] * (len(COLUMNS) - 5)
            cells += [theirs, Text("FAIL", STYLES[Status.FAIL])]
        else:
            verdict = Status.PASS if error.passed else Status.FAIL
            cells = [
                name,
                str(shape),
                number(error.max_abs),
                number(error.max_rel),
                number(error.share),
                number(error.allowed),
                error.rule,
                f"{error.mismatched}/{error.total}",
                str(tuple(error.worst_index)),
                theirs,
                Text(verdict.upper(), STYLES[verdict]),
            ]
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


def case_table(result: CaseResult, columns: tuple[str, ...] = COLUMNS, title: bool = True) -> Table:
    """One row per tensor, in `columns` (of COLUMNS), titled with the case's id and layer."""
    heading = f"{result.id}  ·  layer: {result.convention}" if title else None
    table = Table(title=heading, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in LEFT else "right", no_wrap=True)
    for row in _rows(result):
        table.add_row(*(row[column] for column in columns))
    return table


def print_table(result: CaseResult, console: Console) -> None:
    """The case's table at the console's width: the full one where it fits, else the compact
    one (COMPACT, the id above it) where that fits, else a line per tensor; never a number
    cut. The JSON has every column."""
    full = case_table(result)
    if _width(full, console) <= console.width:
        console.print(full)
        return
    _plain(console, [f"{result.id}  ·  layer: {result.convention}"])
    compact = case_table(result, COMPACT, title=False)
    if _width(compact, console) <= console.width:
        console.print(compact)
        return
    for row in _rows(result):
        cells = [f"{column} {row[column]}" for column in COMPACT[1:-1]]
        _plain(console, [f"  {row['tensor']}: {', '.join(cells)}: {row['result']}"])


def _width(table: Table, console: Console) -> int:
    """The columns `table` takes with no cell cut or wrapped."""
    unlimited = console.options.update_width(1_000_000)
    return Measurement.get(console, unlimited, table).maximum


def print_case(result: CaseResult, console: Console, repeats: int = 1) -> None:
    """The table of one case, then its message, diagnosis, notes and what the layer printed
    (which `repeats` cases printed alike)."""
    if result.shapes:
        print_table(result, console)
    else:
        status = Text(result.status.upper(), STYLES[result.status])
        layer = f"  ·  layer: {result.convention}" if result.convention else ""
        console.print(Text.assemble(status, f"  {result.id}{layer}"))
    _plain(console, result.message.splitlines())
    _plain(console, traceback_lines(result.traceback))
    _plain(console, [f"  diagnosis: {d}" for d in result.diagnosis])
    _plain(console, [f"  {line}" for line in _where(result)])
    _plain(console, [f"  note: {note}" for note in result.notes])
    if result.layer_output and not result.passed:
        console.print("  the layer printed:", markup=False)
        _plain(console, printed_lines(result.layer_output, repeats=repeats))


def printed_lines(text: str, shown: int = PRINTED_LINES, repeats: int = 1) -> list[str]:
    """The first `shown` lines of what a layer printed, made safe for a terminal, and a count
    of the rest (and of the cases that printed the same)."""
    lines = for_terminal(text).rstrip().splitlines()
    kept = [f"    {line}" for line in lines[:shown]]
    more = len(lines) - len(kept)
    if more or repeats > 1:
        also = f"{more} more line(s)" if more else ""
        same = f"the same text in {repeats} cases" if repeats > 1 else ""
        kept.append(f"    [{'; '.join(filter(None, (also, same)))}; all of it in --json]")
    return kept


def print_tensors(numbers: dict[str, dict[str, np.ndarray]], console: Console) -> None:
    """A small case's tensors, to trace by hand: inputs, truth, and what the layer gave."""
    for part, tensors in numbers.items():
        for name, values in tensors.items():
            text = np.array2string(np.asarray(values), precision=5, suppress_small=True)
            _plain(console, [f"{part} {name} {tuple(np.shape(values))}:", *text.splitlines()])


def _plain(console: Console, lines: list[str]) -> None:
    """Lines as they are: no markup, no highlighting, no control characters (a layer's
    exception message is among them)."""
    for line in lines:
        console.print(for_terminal(line), markup=False, highlight=False, soft_wrap=True)


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


def print_groups(
    groups: list[Group], console: Console, command: Callable[[Case], str], quiet: bool
) -> None:
    """A sweep's failures, one group at a time: what is wrong, how many cases, the pattern,
    the smallest case as a command (and, unless quiet, its table)."""
    for found in groups[:MAX_GROUPS]:
        status = Text(found.status.upper(), STYLES[found.status])
        head = for_terminal(f" {len(found.results)} case(s): {found.what[0]}")
        if quiet:  # one line a group: what, where, and the smallest case to rerun
            smallest = for_terminal(command(found.smallest.case))
            tail = f"; {found.pattern or 'in every case'}; smallest: {smallest}"
            console.print(Text.assemble(status, head + tail), soft_wrap=True, highlight=False)
            continue
        console.print(Text.assemble(status, head), soft_wrap=True, highlight=False)
        pattern = [f"  {found.pattern}"] if found.pattern else []
        _plain(console, [f"  {line}" for line in found.what[1:]] + pattern)
        _plain(console, [f"  smallest: {command(found.smallest.case)}"])
        smallest = found.smallest
        alike = sum(r.layer_output == smallest.layer_output for r in found.results)
        print_case(smallest, console, repeats=alike)
        others = [r.id for r in found.results if r is not found.smallest]
        if others:
            shown = ", ".join(others[:SHOWN_IDS])
            more = f" and {len(others) - SHOWN_IDS} more" if len(others) > SHOWN_IDS else ""
            _plain(console, [f"  the others: {shown}{more}", ""])
    if len(groups) > MAX_GROUPS:
        more = sum(len(g.results) for g in groups[MAX_GROUPS:])
        _plain(console, [f"... and {len(groups) - MAX_GROUPS} more group(s), {more} case(s)"])


def print_summary(
    run: RunResult, console: Console, list_skipped: bool = False, label: str = ""
) -> None:
    """A run's last words: its skips (listed when asked, or when nothing was checked), why it
    stopped early, the verdict."""
    skipped = [r for r in run.results if r.status == Status.SKIP]
    listed = list_skipped or run.verdict == Verdict.NOTHING_CHECKED
    if skipped and listed:
        console.print(f"{len(skipped)} case(s) skipped:", highlight=False)
        _plain(console, [f"  {r.id}: {r.message}" for r in skipped])
    elif skipped:
        console.print(
            f"{len(skipped)} case(s) skipped (--list-skipped lists them and why)", highlight=False
        )
    if run.stopped:
        failures = sum(r.status in (Status.FAIL, Status.ERROR) for r in run.results)
        console.print(
            f"stopped after {failures} failing case(s) (--max-failures): "
            f"{run.total - len(run.results)} case(s) did not run",
            highlight=False,
        )
    print_verdict(run, console, label)


def print_verdict(run: RunResult, console: Console, label: str = "") -> None:
    """`PASS: 3 case(s), 2 pass, 1 skip in 0.52 s`; INTERRUPTED with how many ran."""
    counts = Counter(r.status for r in run.results)
    cases = f"{len(run.results)} case(s)"
    if run.interrupted or run.stopped:
        cases = f"{len(run.results)} of {run.total} case(s) finished"
    if run.missing:
        cases = f"{len(run.results)} of {run.total} case(s) reported"
    tally = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s]) or "none run"
    where = f" ({label})" if label else ""
    console.print(
        Text.assemble(
            Text(run.verdict, VERDICT_STYLES[run.verdict]),
            f": {cases}, {tally}{_took(run)}{where}",
        )
    )


def _took(run: RunResult) -> str:
    """' in 4.01 s' (the command's wall time), or a report's "; cases' time 6.13 s (summed)"."""
    if run.merged:
        return f"; cases' time {run.seconds:.2f} s (summed)"
    return f" in {run.seconds:.2f} s"


def print_search(
    found: SearchResult,
    numbers: dict | None,
    console: Console,
    command: Callable[[Case], str],
    seconds: float,
) -> None:
    """What --search found: the smallest failing case as a command, its table and (when
    small) its numbers; or how much of the space it covered."""
    tried = f"{found.judged} case(s) judged, {found.skipped} skipped"
    if found.failure is None:
        console.print(f"search: {tried}; none failed. Covered:", highlight=False)
        _plain(console, [f"  {name}: {_span(values)}" for name, values in found.explored.items()])
        word = Verdict.PASS if found.judged else Verdict.NOTHING_CHECKED
        tail = f": the search found no failing case in {seconds:.2f} s"
        console.print(Text.assemble(Text(word, VERDICT_STYLES[word]), tail))
        return
    console.print(f"search: {tried}; the smallest failing case it shrank to:", highlight=False)
    _plain(console, [f"  {command(found.failure.case)}", ""])
    print_case(found.failure, console)
    if numbers and sum(np.size(v) for part in numbers.values() for v in part.values()) <= 400:
        print_tensors(numbers, console)
    tail = f": a failing case, found and shrunk in {found.runs} runs, {seconds:.2f} s"
    console.print(Text.assemble(Text("FAIL", VERDICT_STYLES[Verdict.FAIL]), tail))


def _span(values: set) -> str:
    numbers = sorted(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    others = sorted(str(v) for v in values if v not in numbers)
    parts = (
        [f"{numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])] if numbers else []
    )
    return ", ".join(parts + others)
