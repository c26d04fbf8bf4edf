"""The pytest plugin (entry point `pytest11`): a short conv1d-check section at the end of
pytest's terminal summary, with the failure groups of the cases that `assert_matches_torch`
judged, their patterns and smallest cases, as `conv1d-check -q` shows them.

Each test's judged cases travel on its report as JSON records (the `conv1d_check` attribute),
so the section also works under pytest-xdist, where the reports come from other processes.
Nothing of the package is imported until a test checks a case.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .check.result import CaseResult

KEY = "conv1d_check"  # the report's attribute holding the records of the cases a test judged
judged: list[CaseResult] = []  # the current test's cases, filled by assert_matches_torch
active = False  # whether pytest loaded the plugin (assert_matches_torch records only then)


def pytest_configure(config: pytest.Config) -> None:
    global active
    active = True


def pytest_unconfigure(config: pytest.Config) -> None:
    global active
    active = False
    judged.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    if call.when == "call" and judged:
        setattr(outcome.get_result(), KEY, [result.to_record() for result in judged])
        judged.clear()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The failure groups of the failed tests' cases, the patterns drawn against every case
    that passed; nothing when no checked case failed."""
    from .check.result import Status, from_record

    failing, passing = [], []
    for outcome in ("failed", "passed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            for record in getattr(report, KEY, None) or []:
                result = from_record(record)
                if result.status == Status.PASS:
                    passing.append(result)
                elif outcome == "failed" and result.status in (Status.FAIL, Status.ERROR):
                    failing.append(result)
    if failing:
        terminalreporter.section("conv1d-check")
        for line in summary_lines(failing + passing, terminalreporter.config):
            terminalreporter.write_line(line)


def summary_lines(results: list[CaseResult], config: pytest.Config) -> list[str]:
    """The groups of `results` as `conv1d-check -q` prints them, at the terminal's width."""
    from rich.console import Console

    from .cli.check import command_line
    from .report import groups, terminal

    stream = io.StringIO()
    width = config.get_terminal_writer().fullwidth
    console = Console(file=stream, width=width, no_color=True, highlight=False)
    found = groups.group(results)
    failing = sum(len(g.results) for g in found)
    console.print(f"{failing} failing case(s) in {len(found)} group(s):", markup=False)
    terminal.print_groups(found, console, command_line, quiet=True)
    return stream.getvalue().splitlines()
