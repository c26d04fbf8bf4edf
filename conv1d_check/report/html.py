"""--html FILE: a run's report as one self-contained page, to open offline or send on.

Everything is inside the file: the styles in a <style>, the pictures as data: URIs; it asks
no network for anything. It holds the verdict and the counts, the sweep's map (--map), and
each failure group: what is wrong, its pattern, its smallest case as a command, that case's
table and explanation, and its heatmaps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from html import escape

from ..check.case import Case
from ..check.result import CaseResult, RunResult, Status, Verdict
from . import plots
from .groups import Group
from .notebook import case_html, img

COLOURS = {
    Verdict.PASS: "#1a7f37",
    Verdict.FAIL: "#cf222e",
    Verdict.NOTHING_CHECKED: "#9a6700",
    Verdict.INTERRUPTED: "#8250df",
}
STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 80em; color: #1f2328; }
h1 span.verdict { color: white; padding: 0.1em 0.4em; border-radius: 0.2em; }
section { border-top: 1px solid #d0d7de; margin-top: 1.5em; }
code.command { display: block; background: #f6f8fa; padding: 0.5em; white-space: pre-wrap; }
img { display: block; margin: 0.5em 0; }
"""


def document(
    run: RunResult,
    found: Sequence[Group],
    kept: Sequence[CaseResult],
    command: Callable[[Case], str],
    *,
    single: bool,
    axes: tuple[str, str] | None = None,
) -> str:
    """The page of `run`: `found` its failure groups, `kept` the cases shown with their arrays
    (the one case of a single run, else each group's smallest)."""
    parts = [_head(run)]
    if axes is not None:
        members = [g.results for g in found]
        picture = plots.sweep_map(run.results, members, axes)
        parts.append(f"<section><h2>Map</h2>{img(picture, f'map of {axes[0]} by {axes[1]}')}")
        parts.append(_legend(found) + "</section>")
    if single:
        parts += [_case(result) for result in kept]
    else:
        for number, (group, result) in enumerate(zip(found, kept, strict=True), 1):
            parts.append(_group(number, group, result, command))
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>conv1d-check: {run.verdict}</title><style>{STYLE}</style></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def _head(run: RunResult) -> str:
    counts = Counter(r.status for r in run.results)
    tally = ", ".join(f"{counts[s]} {s}" for s in Status if counts[s]) or "none run"
    colour = COLOURS[run.verdict]
    return (
        f'<h1>conv1d-check <span class="verdict" style="background: {colour}">'
        f"{escape(run.verdict)}</span></h1>"
        f"<p>{len(run.results)} of {run.total} case(s): {tally}, in {run.seconds:.2f} s</p>"
    )


def _legend(found: Sequence[Group]) -> str:
    items = [f"<li>group {n}: {escape(g.what[0])}</li>" for n, g in enumerate(found, 1)]
    return f"<ul>{''.join(items)}</ul>" if items else "<p>No failures.</p>"


def _group(number: int, group: Group, result: CaseResult, command: Callable[[Case], str]) -> str:
    what = "".join(f"<p>{escape(line)}</p>" for line in group.what[1:])
    pattern = f"<p>pattern: <b>{escape(group.pattern)}</b></p>" if group.pattern else ""
    return (
        f"<section><h2>Group {number}: {escape(group.status.upper())}, "
        f"{len(group.results)} case(s): {escape(group.what[0])}</h2>{what}{pattern}"
        f'<p>smallest case:</p><code class="command">{escape(command(result.case))}</code>'
        f"{_case(result)}</section>"
    )


def _case(result: CaseResult) -> str:
    pictures = plots.heatmaps(result)
    shown = "".join(img(png, f"heatmap of {name}") for name, png in pictures.items())
    return f"{case_html(result)}{shown}"
