"""The report command: `conv1d-check report FILE.jsonl...` merges results files into one
report. It runs nothing and imports no torch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..nn.spec import InvalidParameter
from .check import command_line
from .common import UsageError, exit_code, usage, write_reports

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
    allow_mixed: Annotated[
        bool,
        typer.Option(
            "--allow-mixed",
            help="Merge records of different runs (config, options, layer, shard count or "
            "version) instead of refusing them.",
        ),
    ] = False,
) -> None:
    """Merge results files into one report; run nothing."""
    from ..report import groups
    from ..report.paths import check_outputs
    from ..report.reporters import Report, chosen
    from ..sweep.merge import merge
    from ..sweep.results_file import ResultsFileError
    from ..sweep.stamp import MixedRuns

    try:
        check_outputs({"--junit": junit, "--markdown": markdown}, files)
        run, notes, sweep = merge(files, allow_mixed)
    except InvalidParameter as error:
        raise usage(UsageError(f"{error.param}: {error}")) from None
    except (ResultsFileError, MixedRuns) as error:
        raise usage(UsageError(str(error))) from None
    for note in notes:
        typer.echo(note, err=True)
    options = {"json_output": json_output, "quiet": quiet, "list_skipped": list_skipped}
    options |= {"junit": junit, "markdown": markdown}
    name = f"conv1d-check report of {len(files)} file(s)"
    report = Report(run, groups.group(run.results), name, "", command_line, sweep)
    write_reports(chosen(options, single=False), report)
    raise typer.Exit(exit_code(run.verdict, allow_empty))
