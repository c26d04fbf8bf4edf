"""What the commands share: exit codes, usage errors, and writing a run's reports."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console

from ..check.case import Case
from ..check.result import RunResult, Status, Verdict

EXIT_CODES = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.NOTHING_CHECKED: 5}
EXIT_CODES[Verdict.INTERRUPTED] = 130
USAGE = 2
# The help of --no-isolation: what running a layer in the tool's own process gives up.
NO_ISOLATION = (
    "--no-isolation runs a user layer in the tool's own process, so that breakpoint() and pdb "
    "reach it; it gives up the timeout, the memory limit, the capture of what the layer "
    "prints, and the tool's survival of a layer that crashes or exits."
)


class UsageError(Exception):
    """Bad input found after parsing: one line on stderr (or several, for a config), exit 2."""

    def __init__(self, *lines: str):
        super().__init__(lines[0])
        self.lines = lines


def usage(error: UsageError) -> typer.Exit:
    """One line on stderr (a config's problems one a line below it), exit code 2."""
    typer.echo(f"Error: {error.lines[0]}", err=True)
    for line in error.lines[1:]:
        typer.echo(line, err=True)
    return typer.Exit(USAGE)


def exit_code(verdict: Verdict, allow_empty: bool) -> int:
    """The exit code of a verdict: EXIT_CODES, but 0 for nothing checked with --allow-empty."""
    return 0 if verdict == Verdict.NOTHING_CHECKED and allow_empty else EXIT_CODES[verdict]


def stdout_console() -> Console:
    """Rich console for stdout; in a CI log (no terminal) a wide plain one, no control codes."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=150)
    return console


def emit(
    run: RunResult,
    found: list,
    *,
    name: str,
    label: str,
    single: bool,
    command: Callable[[Case], str],
    json_output: bool,
    quiet: bool,
    list_skipped: bool,
    junit: Path | None,
    markdown: Path | None,
) -> None:
    """The run on stdout (a single case's table, or the failure groups; or JSON), and in the
    JUnit and Markdown files."""
    from ..report import markdown as markdown_report
    from ..report import records, terminal
    from ..report.junit import write_junit

    if json_output:
        print(records.results_json(run, found, command))
    else:
        console = stdout_console()
        if single:
            for result in run.results:
                if not (quiet and result.status in (Status.PASS, Status.SKIP)):
                    terminal.print_case(result, console)
        else:
            terminal.print_groups(found, console, command, quiet)
        terminal.print_summary(run, console, list_skipped, label)
    if junit is not None:
        write_junit(run, junit, suite=name)
    document = markdown_report.markdown(run, found, command, name)
    for path, mode in _markdown_files(markdown):
        with path.open(mode, encoding="utf-8") as stream:
            stream.write(document)


def _markdown_files(path: Path | None) -> list[tuple[Path, str]]:
    """--markdown FILE, written; GitHub's job summary file, appended to when it is set."""
    files = [(path, "w")] if path is not None else []
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        files.append((Path(summary), "a"))
    return files
