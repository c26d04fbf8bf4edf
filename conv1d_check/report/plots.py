"""Pictures, as PNG bytes (matplotlib, the `plot` extra): where a failing tensor's errors sit,
and a sweep's pass/fail map over two parameters.

A heatmap shows err/allowed, each element's error over its own allowance, on a logarithmic
scale centred on 1, the allowance, which the colour bar marks: blue is within it, red beyond.
y and dX (N, C, L) show channel × position of their worst sample; dW (C_out, C_in/G, K) out
channel × (in channel, tap); db (C_out,) one row.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..check.result import CaseResult, Status

MISSING = "--html and the heatmaps need matplotlib: pip install 'conv1d-check[plot]'"
FLOOR = 1e-3  # err/allowed shown at least this far below 1 (an exact element is at the floor)
DPI = 100
CELLS = (256, 1024)  # rows and columns a heatmap draws at most: more are drawn as blocks


class NoMatplotlib(Exception):
    """matplotlib is not installed: MISSING says how to get it."""


def available() -> bool:
    """matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float):
    """A matplotlib Figure of its own: no pyplot, so a notebook's own plotting is untouched."""
    if not available():
        raise NoMatplotlib(MISSING)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def ratio_grid(name: str, arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, str, str, str]:
    """err/allowed of tensor `name` as a 2-D grid (rows, columns), with the title and the
    two axes' labels."""
    error = arrays[f"error_{name}"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(error == 0, 0.0, error / arrays[f"allowed_{name}"])
    ratio = np.where(np.isnan(ratio), np.inf, ratio)  # a NaN: beyond every allowance
    if name in ("y", "dX"):
        worst = int(np.unravel_index(np.argmax(ratio), ratio.shape)[0])
        return ratio[worst], f"{name}, sample {worst} (the worst)", "channel", "position"
    if name == "dW":
        columns = ratio.reshape(ratio.shape[0], -1)
        return columns, "dW", "out channel", f"(in channel, tap): in·{ratio.shape[2]} + tap"
    return ratio.reshape(1, -1), name, "", "out channel"


def pooled(grid: np.ndarray, most: tuple[int, int] = CELLS) -> tuple[np.ndarray, tuple[int, int]]:
    """`grid` (rows, columns) in blocks of (r, c) elements, each block its greatest element
    (so the worst stays in sight), at most `most` blocks each way; and (r, c)."""
    steps = [-(-n // m) for n, m in zip(grid.shape, most, strict=True)]
    padded = np.pad(grid, [(0, -n % s) for n, s in zip(grid.shape, steps, strict=True)])
    r, c = steps
    blocks = padded.reshape(padded.shape[0] // r, r, padded.shape[1] // c, c)
    return blocks.max(axis=(1, 3)), (r, c)


def heatmap(name: str, arrays: dict[str, np.ndarray]) -> bytes:
    """The heatmap of tensor `name`'s err/allowed, as a PNG."""
    from matplotlib.colors import LogNorm
    from matplotlib.ticker import MaxNLocator

    grid, title, rows, columns = ratio_grid(name, arrays)
    grid, (down, across) = pooled(grid)
    if down * across > 1:
        title += f", each cell the worst of {down}×{across}"
    finite = grid[np.isfinite(grid)]
    reach = max(10.0, 1 / FLOOR, float(finite.max()) if finite.size else 10.0)
    shown = np.clip(grid, 1 / reach, reach)
    figure = _figure(7, 3.2)
    axes = figure.subplots()
    image = axes.imshow(
        shown,
        aspect="auto",
        cmap="coolwarm",
        norm=LogNorm(1 / reach, reach),
        interpolation="none",
        extent=(-0.5, grid.shape[1] * across - 0.5, grid.shape[0] * down - 0.5, -0.5),
    )
    axes.set(title=f"{title}: err/allowed", xlabel=columns, ylabel=rows)
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    bar = figure.colorbar(image, ax=axes)
    bar.ax.axhline(1.0, color="black", linewidth=2)
    bar.set_ticks(
        [1 / reach, 1.0, reach], labels=[f"{1 / reach:.0e}", "1 (allowed)", f"{reach:.0e}"]
    )
    return _png(figure)


def heatmaps(result: CaseResult) -> dict[str, bytes]:
    """A heatmap per failing tensor whose errors were kept, by name; none without matplotlib."""
    if result.status != Status.FAIL or not available():
        return {}
    failing = [n for n, e in result.errors.items() if not e.passed]
    return {n: heatmap(n, result.arrays) for n in failing if f"error_{n}" in result.arrays}


def sweep_map(
    results: Sequence[CaseResult], groups: Sequence[Sequence[CaseResult]], axes: tuple[str, str]
) -> bytes:
    """The pass/fail map of a sweep over the parameters `axes` (columns, rows), as a PNG.

    A cell is the cases with those two values: coloured by the failure group most of its
    failing cases are in (groups numbered as listed), green when all that ran passed, grey
    when none ran; its text is failing/run.
    """
    from matplotlib import colormaps
    from matplotlib.patches import Patch

    place = {id(r): number for number, members in enumerate(groups, 1) for r in members}
    cells = defaultdict(list)
    for result in results:
        cells[tuple(getattr(result.case, a) for a in axes)].append(result)
    across, down = (sorted({key[k] for key in cells}, key=_order) for k in (0, 1))
    colours = np.zeros((len(down), len(across)), dtype=int)  # 0 none ran, -1 passed, k group
    figure = _figure(min(20, 2.5 + 0.7 * len(across)), min(20, 1.2 + 0.5 * len(down)))
    plot = figure.subplots()
    for row, low in enumerate(down):
        for column, value in enumerate(across):
            ran = [r for r in cells.get((value, low), []) if r.status != Status.SKIP]
            failing = [place[id(r)] for r in ran if id(r) in place]
            if failing:
                colours[row, column] = max(set(failing), key=failing.count)
            elif ran:
                colours[row, column] = -1
            text = f"{len(failing)}/{len(ran)}" if ran else "-"
            plot.text(column, row, text, ha="center", va="center", fontsize=8)
    palette = ["#c9f2c9", "#dddddd"] + [colormaps["tab10"](k % 10) for k in range(len(groups))]
    plot.imshow(colours + 1, cmap=_listed(palette), vmin=0, vmax=len(palette) - 1, aspect="auto")
    plot.set_xticks(range(len(across)), [str(v) for v in across])
    plot.set_yticks(range(len(down)), [str(v) for v in down])
    plot.set(xlabel=axes[0], ylabel=axes[1], title="failing/run, coloured by group")
    names = ["all passed", "none ran"] + [f"group {k}" for k in range(1, len(groups) + 1)]
    handles = [Patch(color=c, label=n) for c, n in zip(palette, names, strict=True)]
    plot.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return _png(figure)


def _listed(colours: list):
    from matplotlib.colors import ListedColormap

    return ListedColormap(colours)


def _order(value: object) -> tuple:
    return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
