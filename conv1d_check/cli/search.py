"""--search: the check command's other mode, a search for the smallest failing case."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..check.case import Case
from ..check.result import Verdict
from ..check.torch_side import one_thread
from ..check.verify import run_case, trace
from ..report import terminal
from ..sweep.search import search
from ..usercode.isolation import close_all
from .common import EXIT_CODES, UsageError, exit_code

# What a search does not do: each of these given with --search is refused, not ignored.
NOT_WITH_SEARCH = {
    "json_output": "--json",
    "output": "--output",
    "resume": "--resume",
    "junit": "--junit",
    "markdown": "--markdown",
    "config": "--config",
    "shard": "--shard",
    "save": "--save",
    "html": "--html",
    "map_axes": "--map",
}


def run_search(
    case: Case, budget: int, command_line: Callable[[Case], str], params: dict | None = None
) -> int:
    """--search: the search's outcome on stdout; the exit code (1: a failure found, 130:
    interrupted, after what was found so far)."""
    if case.inputs is not None:
        raise UsageError("--search: it draws its own shapes and tensors; drop --inputs")
    given = [flag for name, flag in NOT_WITH_SEARCH.items() if (params or {}).get(name)]
    if given:
        raise UsageError(
            f"--search: not with {', '.join(given)}: a search prints what it finds, and "
            "checks one case's layer, not a config"
        )
    case.validate()
    start = time.perf_counter()
    try:
        with one_thread():
            found = search(case, budget, case.seed, run_case)
            numbers = trace(found.failure.case) if found.failure else None
    finally:
        close_all()
    console = terminal.stdout_console()
    seconds = time.perf_counter() - start
    terminal.print_search(found, numbers, console, command_line, seconds)
    if found.interrupted:
        console.print("search interrupted: the answer above is what was found so far")
        return EXIT_CODES[Verdict.INTERRUPTED]
    if found.failure is not None:
        return 1
    return exit_code(Verdict.PASS if found.judged else Verdict.NOTHING_CHECKED, False)
