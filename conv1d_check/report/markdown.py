"""A run as Markdown, for a CI job's summary page (GitHub's GITHUB_STEP_SUMMARY): the verdict,
the counts, and a table per failure group with its smallest case."""

from __future__ import annotations

from collections.abc import Callable

from ..check.case import Case
from ..check.result import CaseResult, RunResult
from .groups import MAX_GROUPS, Group
from .records import summary
from .text import for_markdown, number


def _cell(text: str) -> str:
    """Text from outside (a layer's message, a file's name) as one line of inert Markdown."""
    return for_markdown(text).replace("\n", " ")


def markdown(run: RunResult, groups: list[Group], command: Callable[[Case], str], name: str) -> str:
    counts = summary(run)
    lines = [
        f"## {_cell(name)}: {run.verdict}",
        "",
        f"**{counts['total']} case(s)**: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['errored']} errored, {counts['skipped']} skipped, "
        + (
            f"the cases' time {run.seconds:.1f} s summed."
            if run.merged
            else f"in {run.seconds:.1f} s."
        ),
    ]
    if run.stopped or run.interrupted:
        why = "stopped by --max-failures" if run.stopped else "interrupted"
        lines.append(f"{why}: {run.total - len(run.results)} case(s) did not run.")
    if run.missing:
        lines.append(f"**incomplete**: {run.missing} case(s) of the sweep are in no file.")
    for found in groups[:MAX_GROUPS]:
        lines += ["", f"### {len(found.results)} {found.status} case(s): {_cell(found.what[0])}"]
        lines += [f"- {_cell(line)}" for line in found.what[1:]]
        if found.pattern:
            lines.append(f"- {_cell(found.pattern)}")
        lines += [
            f"- smallest case `{found.smallest.id}`:",
            "",
            "```bash",
            command(found.smallest.case),
            "```",
        ]
        lines += _table(found.smallest)
    if len(groups) > MAX_GROUPS:
        lines += ["", f"... and {len(groups) - MAX_GROUPS} more group(s): see the JSON report."]
    return "\n".join(lines) + "\n"


def _table(result: CaseResult) -> list[str]:
    if not result.shapes:
        return ["", _cell(result.message.splitlines()[0] if result.message else "")]
    lines = [
        "",
        "| tensor | shape | max abs | err/allowed | rule | mismatched | result |",
        "|---|---|--:|--:|---|--:|---|",
    ]
    for name, shape in result.shapes.items():
        error = result.errors.get(name)
        if error is None:
            why = _cell(result.why_missing(name))
            lines.append(f"| {name} | {shape} | {why} | | | | FAIL |")
            continue
        verdict = "PASS" if error.passed else "**FAIL**"
        lines.append(
            f"| {name} | {shape} | {number(error.max_abs)} | {number(error.share)} | {error.rule} "
            f"| {error.mismatched}/{error.total} | {verdict} |"
        )
    return lines
