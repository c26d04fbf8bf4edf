"""The `conv1d-check` command: a thin Typer layer over `config`, `sweep` and `report`.

One command line is a sweep of one case; --config makes it a sweep of many.
Exit codes: 0 every case passed, 1 a case failed or errored, 2 bad usage or a
bad config file, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from . import __version__
from .check.case import FIELDS, Case, check_field
from .nn.spec import InvalidParameter

if TYPE_CHECKING:
    from .sweep.config import Entry

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Check a 1-D convolution's forward pass and gradients against torch.nn.Conv1d.",
)

LAYER, INPUT, JUDGE, UNDER_TEST, SWEEP, OUTPUT = (
    "Convolution",
    "Input",
    "Pass rule and device",
    "Layer under test",
    "Sweep",
    "Output",
)
OPTION_NAMES = {
    "in_channels": "--in",
    "out_channels": "--out",
    "kernel_size": "--kernel-size",
    "stride": "--stride",
    "padding": "--padding",
    "dilation": "--dilation",
    "groups": "--groups",
    "bias": "--bias",
    "padding_mode": "--padding-mode",
    "batch": "--batch",
    "length": "--length",
    "dtype": "--dtype",
    "seed": "--seed",
    "device": "--device",
    "tf32": "--tf32",
    "atol": "--atol",
    "rtol": "--rtol",
    "impl": "--impl",
    "convention": "--convention",
    "timeout": "--timeout",
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"conv1d-check {__version__}")
        raise typer.Exit()


def _padding(value: str) -> int | str:
    """--padding takes an integer or a word; the word is validated with the case."""
    return int(value) if value.lstrip("-").isdigit() else value


def _stdout_console() -> Console:
    """Rich console for stdout; in a CI log (no terminal) a wide plain one, no control codes."""
    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=150)
    return console


def _usage_error(message: str) -> typer.Exit:
    """Bad usage found after parsing: one line on stderr, exit code 2."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(2)


def _given(ctx: typer.Context, name: str) -> bool:
    """The option was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    # click's ParameterSource, vendored by typer >= 0.2x: compared by name to work with both
    return source is not None and source.name == "COMMANDLINE"


@app.command()
def check_command(
    ctx: typer.Context,
    in_channels: Annotated[
        int, typer.Option("--in", help="Input channels C_in.", rich_help_panel=LAYER)
    ] = 8,
    out_channels: Annotated[
        int, typer.Option("--out", help="Output channels C_out.", rich_help_panel=LAYER)
    ] = 12,
    kernel_size: Annotated[
        int, typer.Option("-k", "--kernel-size", help="Kernel length K.", rich_help_panel=LAYER)
    ] = 3,
    stride: Annotated[
        int, typer.Option("-s", "--stride", help="Stride.", rich_help_panel=LAYER)
    ] = 2,
    padding: Annotated[
        str, typer.Option(help="P >= 0, 'same' (needs -s 1) or 'valid'.", rich_help_panel=LAYER)
    ] = "0",
    dilation: Annotated[int, typer.Option(help="Dilation.", rich_help_panel=LAYER)] = 1,
    groups: Annotated[
        int, typer.Option(help="Groups; must divide --in and --out.", rich_help_panel=LAYER)
    ] = 1,
    bias: Annotated[
        bool, typer.Option("--bias/--no-bias", help="Learnable bias.", rich_help_panel=LAYER)
    ] = True,
    padding_mode: Annotated[
        str, typer.Option(help="zeros, reflect, replicate or circular.", rich_help_panel=LAYER)
    ] = "zeros",
    batch: Annotated[
        int, typer.Option("-n", "--batch", help="Batch size N.", rich_help_panel=INPUT)
    ] = 3,
    length: Annotated[
        int, typer.Option("-l", "--length", help="Input length L.", rich_help_panel=INPUT)
    ] = 20,
    dtype: Annotated[
        str, typer.Option(help="float64 or float32.", rich_help_panel=INPUT)
    ] = "float64",
    seed: Annotated[
        int, typer.Option(help="Seed of the tensors x, W, b and dy.", rich_help_panel=INPUT)
    ] = 10,
    atol: Annotated[
        float | None,
        typer.Option(
            help="Absolute tolerance (with --rtol): assert_close's rule, not the rounding bound.",
            rich_help_panel=JUDGE,
        ),
    ] = None,
    rtol: Annotated[
        float | None, typer.Option(help="Relative tolerance (with --atol).", rich_help_panel=JUDGE)
    ] = None,
    device: Annotated[
        str, typer.Option(help="Device of the torch side: cpu or cuda.", rich_help_panel=JUDGE)
    ] = "cpu",
    tf32: Annotated[
        bool, typer.Option("--tf32", help="Let torch use TF32 on cuda.", rich_help_panel=JUDGE)
    ] = False,
    impl: Annotated[
        str,
        typer.Option(
            help="The layer to check: builtin, path/file.py:Name or package.module:Name.",
            rich_help_panel=UNDER_TEST,
        ),
    ] = "builtin",
    convention: Annotated[
        str | None,
        typer.Option(
            help="seed, mytorch, layer or functional (default: detected).",
            rich_help_panel=UNDER_TEST,
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(help="Seconds a user layer may take per case.", rich_help_panel=UNDER_TEST),
    ] = 60.0,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="A sweep: a TOML or YAML file of defaults, grids and cases. Options given "
            "here override its defaults; a grid's or case's own values override them.",
            rich_help_panel=SWEEP,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Worker processes (0: one per CPU). Results do not depend on it.",
            rich_help_panel=SWEEP,
        ),
    ] = 1,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="I/N",
            help="Run shard I of N (1-based): the id-sorted cases k with k mod N = I - 1.",
            rich_help_panel=SWEEP,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE.jsonl",
            help="Write each finished case as a JSON line to FILE.jsonl, as it finishes.",
            rich_help_panel=SWEEP,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Skip the cases already in the --output file; their results count.",
            rich_help_panel=SWEEP,
        ),
    ] = False,
    list_skipped: Annotated[
        bool,
        typer.Option(
            "--list-skipped",
            help="List the skipped cases and why (a grid's combinations that Conv1d refuses).",
            rich_help_panel=SWEEP,
        ),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print JSON on stdout, nothing else.", rich_help_panel=OUTPUT),
    ] = False,
    junit: Annotated[
        Path | None, typer.Option(help="Write a JUnit XML report to FILE.", rich_help_panel=OUTPUT)
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Only failures and the verdict.", rich_help_panel=OUTPUT
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Check a 1-D convolution against torch.nn.Conv1d. With no options: the notebook's case."""
    from .sweep.config import Entry

    case = Case(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel_size,
        stride=stride,
        padding=_padding(padding),
        dilation=dilation,
        groups=groups,
        bias=bias,
        padding_mode=padding_mode,
        batch=batch,
        length=length,
        dtype=dtype,
        seed=seed,
        device=device,
        tf32=tf32,
        atol=atol,
        rtol=rtol,
        impl=impl,
        convention=convention,
        timeout=timeout,
    )
    if resume and output is None:
        raise _usage_error("--resume needs --output FILE.jsonl: the file to resume from")
    part = _shard(shard)
    if config is None:
        try:
            case.validate()
        except InvalidParameter as error:
            raise _option_error(error) from None
        entries = [Entry(case)]
    else:
        given = {name: getattr(case, name) for name in FIELDS if _given(ctx, name)}
        entries = _load(config, given)
    label = ""
    if part is not None:
        from .sweep.runner import shard as take_shard

        entries = take_shard(entries, *part)
        label = f"shard {part[0]}/{part[1]}"
    suite = " ".join(["conv1d-check", *([config.stem] if config else []), label]).strip()
    passed = _run(
        entries,
        json_output=json_output,
        junit=junit,
        quiet=quiet,
        jobs=jobs,
        output=output,
        resume=resume,
        list_skipped=list_skipped,
        suite=suite,
        label=label,
    )
    if not passed:
        raise typer.Exit(1)


def _option_error(error: InvalidParameter) -> typer.Exit:
    return _usage_error(f"{OPTION_NAMES.get(error.param, error.param)}: {error}")


def _shard(text: str | None) -> tuple[int, int] | None:
    from .sweep.runner import parse_shard

    try:
        return None if text is None else parse_shard(text)
    except ValueError as error:
        raise _usage_error(f"--shard: {error}") from None


def _load(path: Path, given: dict[str, object]) -> list[Entry]:
    """The config file's entries; options given on the command line override its [defaults].

    Every problem of the file goes to stderr, one a line, and the exit code is 2.
    """
    from .sweep.config import ConfigError, load

    for name, value in given.items():
        try:
            check_field(name, value)
        except InvalidParameter as error:
            raise _option_error(error) from None
    try:
        return load(path, given)
    except ConfigError as error:
        if len(error.problems) == 1:
            typer.echo(f"Error: {error.problems[0]}", err=True)
        else:
            typer.echo(f"Error: {len(error.problems)} problems in {path}; nothing ran:", err=True)
            for problem in error.problems:
                typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None


def _run(
    entries: list[Entry],
    json_output: bool,
    junit: Path | None,
    quiet: bool,
    jobs: int = 1,
    output: Path | None = None,
    resume: bool = False,
    list_skipped: bool = False,
    suite: str = "conv1d-check",
    label: str = "",
) -> bool:
    """Run the sweep, report it on stdout (tables of what failed and a summary, or JSON) and
    in JUnit; True if every case passed. Interrupted: the partial report, then exit 130."""
    from .check import torch_side as torch_ref
    from .report import terminal as report
    from .sweep import runner as sweep
    from .sweep.results_file import ResultsFileError

    try:
        for device in sorted({entry.case.device for entry in entries} - {"cpu"}):
            torch_ref.check_device(device)
    except torch_ref.DeviceUnavailable as error:
        raise _usage_error(str(error)) from None
    console = _stdout_console()
    try:
        outcome = sweep.run(entries, jobs, output, resume, report.SweepProgress())
    except ResultsFileError as error:
        raise _usage_error(f"--output: {error}") from None
    for note in outcome.notes:
        typer.echo(note, err=True)
    results = outcome.results
    if json_output:
        print(report.results_json(results))
    else:
        for result in results:
            report.print_case(result, console, quiet=quiet or len(entries) > 1)
        report.print_summary(
            results,
            console,
            outcome.seconds,
            outcome.total,
            outcome.interrupted,
            list_skipped,
            label,
        )
    if junit is not None:
        report.write_junit(results, junit, suite=suite)
    if outcome.interrupted:
        if json_output:
            typer.echo(f"interrupted: {len(results)} of {outcome.total} case(s) finished", err=True)
        raise typer.Exit(130)
    return outcome.passed


def main(argv: list[str] | None = None) -> None:
    """Console entry point; click's usage errors become one line on stderr and code 2."""
    try:
        code = app(args=argv, prog_name="conv1d-check", standalone_mode=False)
    except typer.TyperException as error:
        typer.echo(f"Error: {error.format_message()}", err=True)
        code = getattr(error, "exit_code", 2)
    except KeyboardInterrupt:  # before the sweep began, or while it was reported
        typer.echo("Interrupted", err=True)
        code = 130
    sys.exit(code or 0)
