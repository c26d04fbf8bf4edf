"""Results in Jupyter: a case's table and explanation, or a run's groups and verdict, as the
terminal shows them (rich renders them to HTML), and a failing case's heatmaps below.

The results' `_repr_mimebundle_` calls these; `case_html` and `run_html` serve --html too.
"""

from __future__ import annotations

import base64
import io

from rich.console import Console

from ..check.case import Case
from ..check.result import CaseResult, RunResult
from . import groups, plots, terminal

WIDTH = 130  # columns of the rendered text: the table's eleven fit
PRE = '<pre style="white-space: pre; overflow-x: auto; font-family: monospace">{code}</pre>'


def case_bundle(result: CaseResult) -> dict[str, str]:
    """text/plain and text/html of one case, its heatmaps inside the HTML (an image/png beside
    it would be the whole view in a frontend that ranks pictures first)."""
    text, html = _rendered(lambda console: terminal.print_case(result, console))
    pictures = plots.heatmaps(result).values()
    return {"text/plain": text, "text/html": html + "".join(map(img, pictures))}


def run_bundle(run: RunResult) -> dict[str, str]:
    """text/plain and text/html of a run: its failure groups (or its one case) and verdict."""
    text, html = _rendered(lambda console: print_run(run, console))
    return {"text/plain": text, "text/html": html}


def print_run(run: RunResult, console: Console) -> None:
    if len(run.results) == 1:
        terminal.print_case(run.results[0], console)
    else:
        terminal.print_groups(groups.group(run.results), console, call, quiet=False)
    terminal.print_summary(run, console)


def call(case: Case) -> str:
    """The Python call that checks `case` alone: `check(kernel_size=1, stride=1)`."""
    defaults, params = Case(), case.params()
    given = [f"{k}={v!r}" for k, v in params.items() if getattr(defaults, k) != v]
    return f"conv1d_check.check({', '.join(given)})"


def case_html(result: CaseResult) -> str:
    """One case's table and explanation as an HTML <pre>, styles inline."""
    return _rendered(lambda console: terminal.print_case(result, console))[1]


def img(png: bytes, alt: str = "heatmap") -> str:
    """A PNG as an <img> whose source is inside it (a data: URI)."""
    return f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(png).decode()}"/>'


def _rendered(draw) -> tuple[str, str]:
    """What `draw(console)` prints, as plain text and as HTML with inline styles."""
    console = Console(  # recorded only: in Jupyter rich would also display every print
        record=True,
        width=WIDTH,
        file=io.StringIO(),
        force_terminal=True,
        force_jupyter=False,
        color_system="truecolor",
    )
    draw(console)
    html = console.export_html(inline_styles=True, code_format=PRE, clear=False)
    return console.export_text(), html
