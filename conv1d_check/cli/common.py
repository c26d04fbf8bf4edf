"""What the commands share: exit codes, usage errors, and writing a run's reports."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import typer
from rich.console import Console

from ..check.case import Case
from ..check.result import RunResult, Status, Verdict

EXIT_CODES = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.NOTHING_CHECKED: 5}
EXIT_CODES[Verdict.INTERRUPTED] = 130
USAGE = 2


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
        _print_json(records.results_json(run, found, command))
    else:
        console = stdout_console()
        if single:
            for result in run.results:
                if not (quiet and result.status in (Status.PASS, Status.SKIP)):
                    terminal.print_case(result, console)
        else:
            terminal.print_groups(found, console, command, quiet)
        terminal.print_summary(run, console, list_skipped, label)
    failed = []  # each output is tried, whatever became of the others
    if junit is not None:
        failed += _write(junit, "--junit", partial(write_junit, run, junit, suite=name))
    document = markdown_report.markdown(run, found, command, name)
    for path, mode, what in _markdown_files(markdown):
        failed += _write(path, what, partial(_append, path, mode, document))
    if failed:
        for line in failed:
            typer.echo(f"Error: {line}", err=True)
        raise typer.Exit(USAGE)


def _write(path: Path, what: str, write: Callable[[], None]) -> list[str]:
    """Run `write`; a line saying what could not be written, and what was kept, if it failed."""
    try:
        write()
    except OSError as error:
        return [
            f"{what} {path}: cannot write it ({error.strerror}); the run finished and its other "
            f"outputs are kept; exit code {USAGE}"
        ]
    return []


def _append(path: Path, mode: str, text: str) -> None:
    with path.open(mode, encoding="utf-8") as stream:
        stream.write(text)


def _print_json(text: str) -> None:
    """`text` on stdout; a reader that stops early (`| head`) ends nothing but the printing."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit


def _markdown_files(path: Path | None) -> list[tuple[Path, str, str]]:
    """--markdown FILE, written; GitHub's job summary file, appended to when it is set."""
    from ..report.paths import SUMMARY, summary_file

    files = [(path, "w", "--markdown")] if path is not None else []
    if (summary := summary_file()) is not None:
        files.append((summary, "a", SUMMARY))
    return files
