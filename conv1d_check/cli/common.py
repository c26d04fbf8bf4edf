"""What the commands share: exit codes, usage errors (a config file's, one problem a line) and
the options' names."""

from __future__ import annotations

import typer

from ..check.result import Verdict
from ..nn.spec import InvalidParameter
from ..report.reporters import Report, Reporter, write_all

EXIT_CODES = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.NOTHING_CHECKED: 5}
EXIT_CODES[Verdict.INTERRUPTED] = 130
EXIT_CODES[Verdict.INCOMPLETE] = 6  # 3 is an internal error (as in pytest)
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


def config_error(error: Exception) -> UsageError:
    """Every problem of a config file, one a line (the first twenty, and a count)."""
    problems = error.problems
    if len(problems) == 1:
        return UsageError(problems[0])
    shown = [f"  {problem}" for problem in problems[:20]]
    if len(problems) > 20:
        shown.append(f"  ... and {len(problems) - 20} more")
    return UsageError(f"{len(problems)} problems in {error.path}; nothing ran:", *shown)


def flag(ctx: typer.Context, name: str) -> str:
    """The command-line option of parameter `name` (in_channels -> --in)."""
    for param in ctx.command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return name


def invalid(ctx: typer.Context, error: InvalidParameter) -> UsageError:
    """A bad parameter's error, under the name of its option."""
    return UsageError(f"{flag(ctx, error.param)}: {error}")


def on_command_line(ctx: typer.Context, name: str) -> bool:
    """The option was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def write_reports(reporters: list[Reporter], report: Report) -> None:
    """Feed the report to every reporter; a file that cannot be written is one line on stderr
    each (the others are written all the same) and exit code 2."""
    failed = write_all(reporters, report)
    for line in failed:
        typer.echo(
            f"Error: {line}; the run finished and its other outputs are kept; exit code {USAGE}",
            err=True,
        )
    if failed:
        raise typer.Exit(USAGE)
