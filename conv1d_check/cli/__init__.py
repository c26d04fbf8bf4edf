"""The `conv1d-check` command line: a thin Typer layer over `sweep` and `report`.

`conv1d-check [options]` checks one case or a config's sweep (`check`); `conv1d-check report
FILE.jsonl...` merges results files (`report`). Every bad input is one line on stderr and exit
code 2; a run's verdict gives the exit code (`common.EXIT_CODES`).
"""

from __future__ import annotations

import sys

import typer

from ..check.result import Verdict
from .check import app, command_line
from .common import EXIT_CODES, USAGE
from .crash import internal_error
from .report import report_app

__all__ = ["app", "command_line", "main", "report_app"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point; click's usage errors become one line on stderr and code 2.
    `conv1d-check report ...` is the report command; anything else, a check."""
    argv = sys.argv[1:] if argv is None else argv
    command, name = (
        (report_app, "conv1d-check report") if argv[:1] == ["report"] else (app, "conv1d-check")
    )
    if command is report_app:
        argv = argv[1:]
    try:
        code = command(args=argv, prog_name=name, standalone_mode=False)
    except typer.TyperException as error:
        typer.echo(f"Error: {error.format_message()}", err=True)
        code = getattr(error, "exit_code", USAGE)
    except KeyboardInterrupt:  # before the sweep began, or while it was reported
        typer.echo("Interrupted", err=True)
        code = EXIT_CODES[Verdict.INTERRUPTED]
    except Exception as error:  # a bug of ours: exit 3, never 1 as if a case failed
        code = internal_error(error)
    sys.exit(code or 0)
