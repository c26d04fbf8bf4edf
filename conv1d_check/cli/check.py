"""The check command: `conv1d-check [options]`. Its parameters are named as Case's fields, so
the case is built from `ctx.params`; one command line is a sweep of one case, and --config
makes it a sweep of many."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Annotated

import typer
from typer.main import get_command

from .. import __version__
from ..check.case import FIELDS, Case, check_field
from ..check.result import RunResult
from ..nn.spec import InvalidParameter
from ..sweep.config import shipped
from ..usercode.layout import OPTION_HELP as LAYOUT_HELP
from . import clock, pictures
from .common import (
    NO_ISOLATION,
    UsageError,
    config_error,
    exit_code,
    flag,
    invalid,
    on_command_line,
    usage,
    write_reports,
)

HELP = (
    "Check a 1-D convolution's forward pass and gradients against torch.nn.Conv1d.\n\n"
    "With no options: the notebook's case, on the built-in numpy layer. Exit codes: 0 every "
    "case passed; 1 a case failed or errored; 2 bad usage, parameters or config file; 5 "
    "nothing was checked (every case skipped; --allow-empty makes it 0); 3 an internal error of "
    "the tool; 6 (report) cases of the sweep are in no file; 130 interrupted.\n\n"
    f"Shipped configs, for --config: {', '.join(sorted(shipped()))}. "
    "`conv1d-check report FILE.jsonl...` merges the results files of shards into one report."
)

RULE_HELP = "elementwise, or normwise: also pass a transform's (FFT) error within its norm bound."
INPUTS_HELP = "Your own x (and W, b, dy), np.savez'd; x and W set the shapes, x the dtype."
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=HELP)

LAYER, INPUT, JUDGE, UNDER_TEST, SWEEP, OUTPUT = (
    "Convolution",
    "Input",
    "Pass rule and device",
    "Layer under test",
    "Sweep",
    "Output",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"conv1d-check {__version__}")
        raise typer.Exit()


@app.command(help=HELP)
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
    inputs: Annotated[
        str | None, typer.Option(metavar="FILE.npz", help=INPUTS_HELP, rich_help_panel=INPUT)
    ] = None,
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
    rule: Annotated[str, typer.Option(help=RULE_HELP, rich_help_panel=JUDGE)] = "elementwise",
    only: Annotated[
        str | None,
        typer.Option(
            metavar="TENSORS",
            help="Judge only these tensors, a comma list of y, dX, dW, db (y: forward only).",
            rich_help_panel=JUDGE,
        ),
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
    layout: Annotated[
        str | None,
        typer.Option(metavar="x=NLC,W=KIO", help=LAYOUT_HELP, rich_help_panel=UNDER_TEST),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a user layer may take per case (inf: no limit).",
            rich_help_panel=UNDER_TEST,
        ),
    ] = 60.0,
    memory_limit: Annotated[
        float | None,
        typer.Option(
            metavar="GIB",
            help="GiB of memory a user layer's process may use (default: half the machine's).",
            rich_help_panel=UNDER_TEST,
        ),
    ] = None,
    isolate: Annotated[
        bool,
        typer.Option("--isolation/--no-isolation", help=NO_ISOLATION, rich_help_panel=UNDER_TEST),
    ] = True,
    config: Annotated[
        str | None,
        typer.Option(
            metavar="FILE|NAME",
            help="A sweep: a TOML or YAML file of defaults, grids and cases, or a shipped "
            "config's name. Options given here override its defaults; a grid's or case's own "
            "values override them.",
            rich_help_panel=SWEEP,
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Worker processes (0: one per CPU; at most the CPU count). Results do not "
            "depend on it.",
            rich_help_panel=SWEEP,
        ),
    ] = 1,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="I/N|auto",
            help="Run shard I of N (1-based): every N-th of the cases that run, and of the skips. "
            "auto: I and N from a Slurm job array or GitLab's parallel:.",
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
    max_cases: Annotated[
        int,
        typer.Option(
            min=1,
            help="Refuse a config whose grids make more combinations than this.",
            rich_help_panel=SWEEP,
        ),
    ] = 1_000_000,
    max_failures: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Stop the sweep after N failing cases.",
            rich_help_panel=SWEEP,
        ),
    ] = None,
    search: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Search up to N cases like this one (its layer, dtype, tolerance; geometry "
            "drawn) for a failure, and shrink it to the smallest failing case. --seed seeds it.",
            rich_help_panel=SWEEP,
        ),
    ] = None,
    list_skipped: Annotated[
        bool,
        typer.Option(
            "--list-skipped",
            help="List the skipped cases and why (a grid's combinations that Conv1d refuses).",
            rich_help_panel=SWEEP,
        ),
    ] = False,
    allow_empty: Annotated[
        bool,
        typer.Option(
            "--allow-empty",
            help="Exit 0, not 5, when nothing was checked (an empty CI shard).",
            rich_help_panel=SWEEP,
        ),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print JSON on stdout, nothing else.", rich_help_panel=OUTPUT),
    ] = False,
    junit: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write a JUnit XML report.", rich_help_panel=OUTPUT),
    ] = None,
    markdown: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write a Markdown summary (appended to $GITHUB_STEP_SUMMARY too, when set).",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    save: pictures.SAVE = None,
    html: pictures.HTML = None,
    map_axes: pictures.MAP = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="One line per failure group, and the verdict.",
            rich_help_panel=OUTPUT,
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
    params = dict(ctx.params)
    params["padding"] = int(padding) if re.fullmatch("-?[0-9]+", padding) else padding
    case = Case(**{name: params[name] for name in FIELDS})
    try:
        if search is not None:
            from .search import run_search

            raise typer.Exit(run_search(case, search, command_line, params))
        run = _run(ctx, case, params)
    except InvalidParameter as error:
        raise usage(invalid(ctx, error)) from None
    except UsageError as error:
        raise usage(error) from None
    raise typer.Exit(exit_code(run.verdict, allow_empty))


def _run(ctx: typer.Context, case: Case, params: dict) -> RunResult:
    """Plan the run, check its output paths, run it, report it."""
    from ..check.torch_side import DeviceUnavailable, check_device
    from ..report import groups, progress
    from ..report.paths import check_outputs
    from ..report.reporters import Report, chosen
    from ..sweep import config, plan, runner
    from ..sweep.results_file import ResultsFileError

    if params["resume"] and params["output"] is None:
        raise UsageError("--resume: needs --output FILE.jsonl, the file to resume from")
    shard = None
    if params["shard"] is not None:
        try:
            shard, found = plan.shard_from(params["shard"], os.environ)
        except ValueError as error:
            raise UsageError(f"--shard: {error}") from None
        if found:
            typer.echo(f"note: --shard auto: shard {shard[0]}/{shard[1]} from {found}", err=True)
    given = {name: params[name] for name in FIELDS if on_command_line(ctx, name)}
    for name, value in given.items():
        check_field(name, value)
    try:
        the_plan = plan.plan(
            case,
            config=params["config"],
            given=given,
            shard_spec=shard,
            max_cases=params["max_cases"],
        )
    except config.ConfigError as error:
        raise config_error(error) from None
    outputs = {flag(ctx, name): params[name] for name in ("output", "junit", "markdown")}
    outputs |= {flag(ctx, name): params[name] for name in ("html", "save")}
    check_outputs(outputs, the_plan.inputs)
    axes = pictures.check_options(params, the_plan.inputs)
    try:
        for device in sorted({entry.case.device for entry in the_plan.entries} - {"cpu"}):
            check_device(device)
    except DeviceUnavailable as error:
        raise UsageError(str(error)) from None
    jobs = runner.worker_count(params["jobs"], the_plan.entries)
    if jobs.note:
        typer.echo(f"note: {jobs.note}", err=True)
    try:
        run = runner.run(
            the_plan,
            jobs=jobs.count,
            output=params["output"],
            resume=params["resume"],
            progress=progress.SweepProgress(),
            max_failures=params["max_failures"],
        )
    except ResultsFileError as error:
        raise UsageError(f"--output: {error}") from None
    run.seconds = clock.since_start()  # the command's wall time, its start-up included
    for note in run.notes:
        typer.echo(note, err=True)
    report = Report(
        run,
        groups.group(run.results),
        the_plan.name,
        the_plan.label,
        command_line,
        the_plan.stamp.sweep,
    )
    write_reports(chosen(params, single=len(the_plan.entries) == 1), report)
    pictures.write(run, len(the_plan.entries) == 1, params, axes, command_line)
    if run.interrupted and params["json_output"]:
        typer.echo(f"interrupted: {len(run.results)} of {run.total} case(s) finished", err=True)
    return run


def command_line(case: Case) -> str:
    """The conv1d-check command that runs `case` alone: every parameter that differs from
    the defaults, by its shortest option."""
    defaults = Case()
    parts = ["conv1d-check"]
    for param in get_command(app).params:
        if param.name not in FIELDS or getattr(case, param.name) == getattr(defaults, param.name):
            continue
        value = getattr(case, param.name)
        if isinstance(value, bool):
            parts.append(param.opts[0] if value else (param.secondary_opts or ["--no-?"])[0])
        else:
            parts += [min(param.opts, key=len), shlex.quote(str(value))]
    return " ".join(parts)
