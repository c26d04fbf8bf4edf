"""--save FILE.npz, --html FILE and --map A,B: the files for a person to look into, written
after the run from the cases worth a look (one case's run: it; a sweep: each failure group's
smallest case), run again keeping their arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ..check.case import FIELDS, Case
from ..check.result import CaseResult, RunResult
from ..nn.spec import InvalidParameter
from .common import UsageError

OUTPUT = "Output"  # the help's panel
SAVE = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE.npz",
        help="Save x, W, b, dy, the truth, the layer's results and the errors (a sweep: of "
        "each failure group's smallest case), for numpy.load.",
        rich_help_panel=OUTPUT,
    ),
]
HTML = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Write a self-contained HTML report: the verdict, the groups, tables and "
        "heatmaps (needs matplotlib: conv1d-check[plot]).",
        rich_help_panel=OUTPUT,
    ),
]
MAP = Annotated[
    str | None,
    typer.Option(
        "--map",
        metavar="A,B",
        help="Draw the sweep's pass/fail map over two parameters in the --html report, "
        "e.g. stride,kernel_size.",
        rich_help_panel=OUTPUT,
    ),
]


def check_options(params: dict, inputs: list[Path]) -> tuple[str, str] | None:
    """Refuse, before anything runs, what these options cannot do; the --map axes, if any."""
    from ..report import plots
    from ..report.paths import check_writable

    for name in ("save", "html"):
        path = params[name]
        if path is not None:
            check_writable(path, name)
            if any(path.exists() and s.exists() and path.samefile(s) for s in inputs):
                raise InvalidParameter(name, f"{path} is the run's own input: write elsewhere")
    if params["html"] is not None and not plots.available():
        raise UsageError(f"--html: {plots.MISSING}")
    if params["map_axes"] is None:
        return None
    axes = tuple(a.strip() for a in params["map_axes"].split(","))
    if len(axes) != 2 or len(set(axes)) != 2 or not set(axes) <= set(FIELDS):
        raise UsageError(
            f"--map {params['map_axes']}: give two different parameters, as stride,kernel_size "
            f"(of: {', '.join(FIELDS)})"
        )
    if params["html"] is None:
        raise UsageError("--map: the map is drawn in the --html report: give --html FILE too")
    return axes


def write(
    run: RunResult,
    single: bool,
    params: dict,
    axes: tuple[str, str] | None,
    command: Callable[[Case], str],
) -> None:
    """Write --save's arrays and --html's report of `run`."""
    if params["save"] is None and params["html"] is None:
        return
    if run.interrupted:  # writing them means running cases again: not after Ctrl-C
        typer.echo("--save, --html: not written, the run was interrupted", err=True)
        return
    from ..check.saved import save
    from ..report import groups, html

    found = groups.group(run.results)
    kept = [_again(r) for r in (run.results[:1] if single else [g.smallest for g in found])]
    if params["save"] is not None:
        save(params["save"], kept, sweep=not single)
    if params["html"] is not None:
        page = html.document(run, found, kept, command, single=single, axes=axes)
        params["html"].write_text(page, encoding="utf-8")


def _again(result: CaseResult) -> CaseResult:
    """`result`'s case run again, keeping its arrays (the tensors are seeded: the same case)."""
    from ..check.torch_side import one_thread
    from ..check.verify import run_case

    with one_thread():
        return run_case(result.case, keep=True)
