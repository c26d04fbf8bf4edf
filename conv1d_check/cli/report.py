"""The report command: `conv1d-check report FILE.jsonl...` merges results files into one
report. It runs nothing and imports no torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..nn.spec import InvalidParameter
from .check import command_line
from .common import UsageError, emit, exit_code, usage

REPORT_HELP = (
    "Merge results files (one per shard, written with --output) into one report: the summary, "
    "failure groups, verdict and exit codes of the sweep itself, and --json, --junit, "
    "--markdown. Runs nothing; a case in several files counts once."
)

report_app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@report_app.command(help=REPORT_HELP)
def report_command(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE.jsonl...", help="Results files (--output).")
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON on stdout, nothing else.")
    ] = False,
    junit: Annotated[Path | None, typer.Option(metavar="FILE", help="Write JUnit XML.")] = None,
    markdown: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write a Markdown summary.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="One line per failure group.")
    ] = False,
    list_skipped: Annotated[
        bool, typer.Option("--list-skipped", help="List the skipped cases.")
    ] = False,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Exit 0, not 5, when nothing was checked.")
    ] = False,
) -> None:
    """Merge results files into one report; run nothing."""
    from ..report import groups
    from ..report.paths import check_outputs
    from ..sweep.merge import merge
    from ..sweep.results_file import ResultsFileError

    try:
        check_outputs({"--junit": junit, "--markdown": markdown}, files)
        run, notes = merge(files)
    except InvalidParameter as error:
        raise usage(UsageError(f"{error.param}: {error}")) from None
    except ResultsFileError as error:
        raise usage(UsageError(str(error))) from None
    for note in notes:
        typer.echo(note, err=True)
    emit(
        run,
        groups.group(run.results),
        name=f"conv1d-check report of {len(files)} file(s)",
        label="",
        single=False,
        command=command_line,
        json_output=json_output,
        quiet=quiet,
        list_skipped=list_skipped,
        junit=junit,
        markdown=markdown,
    )
    raise typer.Exit(exit_code(run.verdict, allow_empty))
