"""Results for a person at a terminal (or in a CI log): a table per case, a summary, a verdict."""

from __future__ import annotations

import math
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..check.result import CaseResult, RunResult, Status, Verdict

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
}
COLUMNS = ("tensor", "shape", "max abs", "max rel", "err/allowed", "allowed", "rule")
COLUMNS += ("mismatched", "worst index", "torch", "result")
LEFT = ("tensor", "shape", "rule", "result")


def _num(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def case_table(result: CaseResult) -> Table:
    """One row per tensor: the layer's errors against the truth, as a share of the allowance
    and the rule that set it; torch's own error; the verdict."""
    table = Table(title=f"{result.id}  ·  layer: {result.convention}", title_justify="left")
    for column in COLUMNS:
        table.add_column(
            column, justify="left" if column in ("tensor", "shape", "rule") else "right"
        )
    for name, shape in result.shapes.items():
        theirs = "truth" if result.torch_is_truth else _num(result.torch_errors[name].max_abs)
        error = result.errors.get(name)
        if error is None:
            why = result.missing.get(name, "wrong shape or dtype")
            blank = [why] + ["-"] * (len(COLUMNS) - 5)
            table.add_row(name, str(shape), *blank, theirs, Text("FAIL", STYLES[Status.FAIL]))
            continue
        verdict = Status.PASS if error.passed else Status.FAIL
        table.add_row(
            name,
            str(shape),
            _num(error.max_abs),
            _num(error.max_rel),
            _num(error.share),
            _num(error.allowed),
            error.rule,
            f"{error.mismatched}/{error.total}",
            str(tuple(error.worst_index)),
            theirs,
            Text(verdict.upper(), STYLES[verdict]),
        )
    return table


def print_case(result: CaseResult, console: Console, quiet: bool = False) -> None:
    """The table of one case, then its message, diagnosis and what the layer printed."""
    if quiet and result.status in (Status.PASS, Status.SKIP):
        return
    if result.shapes:
        console.print(case_table(result))
    else:
        status = Text(result.status.upper(), STYLES[result.status])
        layer = f"  ·  layer: {result.convention}" if result.convention else ""
        console.print(Text.assemble(status, f"  {result.id}{layer}"))
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
    run: RunResult, console: Console, list_skipped: bool = False, label: str = ""
) -> None:
    """A run's last words: its failures (id, first line, diagnosis), its skips, the verdict.

    A run of one case has shown its table already: only the verdict follows it, and the
    reason of a skip.
    """
    results = run.results
    if len(results) > 1 or run.interrupted:
        bad = [r for r in results if r.status in (Status.FAIL, Status.ERROR)]
        if bad:
            console.print(Text(f"{len(bad)} case(s) did not pass:", STYLES[Status.FAIL]))
        for result in bad:
            first = result.message.splitlines()[0] if result.message else ""
            status = Text(result.status.upper(), STYLES[result.status])
            console.print(Text.assemble("  ", status, f" {result.id}: {first}"), soft_wrap=True)
            for line in result.diagnosis:
                console.print(
                    f"      diagnosis: {line}", markup=False, highlight=False, soft_wrap=True
                )
    skipped = [r for r in results if r.status == Status.SKIP]
    listed = list_skipped or run.verdict == Verdict.NOTHING_CHECKED
    if skipped and listed and len(results) > 1:
        console.print(f"{len(skipped)} case(s) skipped:", highlight=False)
        for result in skipped:
            console.print(
                f"  {result.id}: {result.message}", markup=False, highlight=False, soft_wrap=True
            )
    elif skipped and len(results) > 1:
        console.print(
            f"{len(skipped)} case(s) skipped (--list-skipped lists them and why)", highlight=False
        )
    print_verdict(run, console, label)


def print_verdict(run: RunResult, console: Console, label: str = "") -> None:
    """`PASS: 3 case(s), 2 pass, 1 skip in 0.52 s`; INTERRUPTED with how many ran."""
    counts = Counter(r.status for r in run.results)
    cases = f"{len(run.results)} case(s)"
    if run.interrupted:
        cases = f"{len(run.results)} of {run.total} case(s) finished"
    tally = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s]) or "none run"
    where = f" ({label})" if label else ""
    console.print(
        Text.assemble(
            Text(run.verdict, VERDICT_STYLES[run.verdict]),
            f": {cases}, {tally} in {run.seconds:.2f} s{where}",
        )
    )
