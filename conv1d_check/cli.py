"""The `conv1d-check` command: a thin Typer layer over `verify.check`.

Exit codes: 0 every case passed, 1 a case failed or errored, 2 bad usage.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from . import __version__
from .case import Case
from .spec import InvalidParameter

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Check a 1-D convolution's forward pass and gradients against torch.nn.Conv1d.",
)

LAYER, INPUT, JUDGE, UNDER_TEST, OUTPUT = (
    "Convolution",
    "Input",
    "Pass rule and device",
    "Layer under test",
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


@app.command()
def check_command(
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
    try:
        case.validate()
    except InvalidParameter as error:
        raise _usage_error(f"{OPTION_NAMES.get(error.param, error.param)}: {error}") from None
    passed = _run([case], json_output=json_output, junit=junit, quiet=quiet)
    if not passed:
        raise typer.Exit(1)


def _run(cases: list[Case], json_output: bool, junit: Path | None, quiet: bool) -> bool:
    """Run the cases, report them on stdout (table or JSON) and in JUnit; True if all passed."""
    from . import report, torch_ref
    from .verify import check

    try:
        for device in sorted({case.device for case in cases}):
            torch_ref.check_device(device)
    except torch_ref.DeviceUnavailable as error:
        raise _usage_error(str(error)) from None
    console = _stdout_console()
    start = time.perf_counter()
    results = [check(case) for case in cases]
    if json_output:
        print(report.results_json(results))
    else:
        for result in results:
            report.print_case(result, console, quiet=quiet)
        report.print_verdict(results, console, time.perf_counter() - start)
    if junit is not None:
        report.write_junit(results, junit)
    return all(result.passed for result in results)


def main(argv: list[str] | None = None) -> None:
    """Console entry point; click's usage errors become one line on stderr and code 2."""
    try:
        code = app(args=argv, prog_name="conv1d-check", standalone_mode=False)
    except typer.TyperException as error:
        typer.echo(f"Error: {error.format_message()}", err=True)
        code = getattr(error, "exit_code", 2)
    sys.exit(code or 0)
