"""A run's outputs as reporters, as pytest's terminal and JUnit reporters are: one object per
output, made from the options once, each fed the same finished `Report`.

A new output (HTML, say) is a class with a `write(report)` method and one line in `chosen`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..check.case import Case
from ..check.result import RunResult, Status
from .groups import Group
from .paths import SUMMARY, summary_file


@dataclass(frozen=True)
class Report:
    """What every reporter is fed: the finished run, its failure groups, the run's name (a
    JUnit suite's, a Markdown heading's), a label for the verdict line, how to write a case
    as the command that runs it alone, and the sweep's name whatever the shard (the JUnit
    cases' class, so that a case's identity does not change with the sharding)."""

    run: RunResult
    groups: list[Group]
    name: str
    label: str
    command: Callable[[Case], str]
    sweep: str = "conv1d-check"


class Reporter(Protocol):
    def write(self, report: Report) -> None:
        """Write the report to this reporter's output."""


@dataclass(frozen=True)
class TerminalReporter:
    """stdout for a person or a CI log: a single case's table, or a sweep's failure groups;
    then the skips, why the run stopped early, and the verdict."""

    single: bool
    quiet: bool
    list_skipped: bool

    def write(self, report: Report) -> None:
        from . import terminal

        console = terminal.stdout_console()
        if self.single:
            for result in report.run.results:
                if not (self.quiet and result.status in (Status.PASS, Status.SKIP)):
                    terminal.print_case(result, console)
        else:
            terminal.print_groups(report.groups, console, report.command, self.quiet)
        terminal.print_summary(report.run, console, self.list_skipped, report.label)


@dataclass(frozen=True)
class JsonReporter:
    """The whole run as one JSON document on stdout, and nothing else there."""

    def write(self, report: Report) -> None:
        from .records import results_json

        print_json(results_json(report.run, report.groups, report.command))


def print_json(text: str) -> None:
    """`text` on stdout; a reader that stops early (`| head`) ends nothing but the printing."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit


@dataclass(frozen=True)
class JUnitReporter:
    """A JUnit XML file: a testsuite named after the run, a testcase per case."""

    path: Path
    option: str = "--junit"

    def write(self, report: Report) -> None:
        from .junit import write_junit

        write_junit(report.run, self.path, suite=report.name, classname=report.sweep)


@dataclass(frozen=True)
class MarkdownReporter:
    """A Markdown summary written to `path`, or appended to it (GitHub's job summary file)."""

    path: Path
    option: str = "--markdown"
    append: bool = False

    def write(self, report: Report) -> None:
        from .markdown import markdown

        document = markdown(report.run, report.groups, report.command, report.name)
        with self.path.open("a" if self.append else "w", encoding="utf-8") as stream:
            stream.write(document)


def chosen(options: Mapping[str, Any], *, single: bool) -> list[Reporter]:
    """The reporters a command's options ask for (`json_output`, `quiet`, `list_skipped`,
    `junit`, `markdown`): stdout's, then the files; and GitHub's job summary when
    GITHUB_STEP_SUMMARY names one."""
    stdout: Reporter = (
        JsonReporter()
        if options["json_output"]
        else TerminalReporter(single, options["quiet"], options["list_skipped"])
    )
    reporters = [stdout]
    if options["junit"] is not None:
        reporters.append(JUnitReporter(options["junit"]))
    if options["markdown"] is not None:
        reporters.append(MarkdownReporter(options["markdown"]))
    if (summary := summary_file()) is not None:
        reporters.append(MarkdownReporter(summary, SUMMARY, append=True))
    return reporters


def write_all(reporters: list[Reporter], report: Report) -> list[str]:
    """Feed the report to every reporter, in order, whatever became of the others; a line for
    each file that could not be written (a full disk, a folder gone since it was checked)."""
    failed = []
    for reporter in reporters:
        try:
            reporter.write(report)
        except OSError as error:
            failed.append(f"{reporter.option} {reporter.path}: cannot write it ({error.strerror})")
    return failed
