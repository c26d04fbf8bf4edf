"""The axes a layer keeps its tensors in, given (`--layout x=NLC,W=KIO`) or found by measurement.

A layout names the order of x's axes, NCL (torch's) or NLC (channels last, as Keras and
numpy-ml), which y, dy and dX follow too; and the order of W's axes over O, I, K = (C_out,
C_in/G, K), which dW follows: OIK is torch's, KIO Keras's and numpy-ml's, any permutation is
one. The tool's tensors are torch's; a layout turns them into the layer's and back.

Not given, the layout is found on the forward pass: torch's where the layer takes torch's shapes
as written and no other layout has them, or its forward matches the reference (our numpy
layer's y); else each candidate the layer's shapes allow, kept when its forward alone matches.
Weights are never written in a layout that was not confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.spec import ConvSpec, InvalidParameter, WrongType
from .protocol import Tensors, Unsupported, Unusable

X_LAYOUTS = ("NCL", "NLC")
W_LAYOUTS = ("OIK", "KIO", "OKI", "IOK", "IKO", "KOI")  # torch's, Keras's, then the rest
OPTION_HELP = (
    "The axes the layer takes x (and y, dy, dX) in, NCL or NLC, and the order of W's (and dW's) "
    "over out, in, kernel (OIK as torch, KIO as Keras). Default: found by measurement."
)
AXES_NOTE = (
    "shapes and indices are reported in torch's axes: x, y and dX as (N, C, L), W and dW as "
    "(C_out, C_in, K)"
)
# A forward "matches" under a layout when ‖y − reference‖ ≤ MATCH·‖reference‖. Loose on
# purpose: it tells layouts apart (under a wrong one y is uncorrelated with the reference, off by
# about √2 of its norm) and leaves the judging to the pass rule.
MATCH = 0.5


@dataclass(frozen=True)
class Layout:
    """The order of x's axes (NCL, NLC) and of W's (a permutation of OIK)."""

    x: str = "NCL"
    W: str = "OIK"

    def __str__(self) -> str:
        return f"x={self.x},W={self.W}"

    def data(self, array: np.ndarray) -> np.ndarray:
        """x, y, dy or dX (N, C, L) in the layer's axes, or back: a swap, its own inverse."""
        if self.x == "NCL" or np.ndim(array) != 3:
            return array
        return np.swapaxes(array, 1, 2)

    def weights(self, W: np.ndarray) -> np.ndarray:
        """W (C_out, C_in/G, K) in the layer's axes."""
        return W.transpose(["OIK".index(axis) for axis in self.W])

    def weights_back(self, array: np.ndarray) -> np.ndarray:
        """dW in the layer's axes, as (C_out, C_in/G, K)."""
        return array.transpose([self.W.index(axis) for axis in "OIK"])

    def axes(self, name: str) -> list[int]:
        """The axes of tensor `name` (y, dX, dW, db; ours) in the order the layer keeps them."""
        if name == "dW":
            return ["OIK".index(axis) for axis in self.W]
        return ["NCL".index(axis) for axis in self.x] if name in ("y", "dX") else [0]


TORCH = Layout()
CANDIDATES = tuple(Layout(x, W) for x in X_LAYOUTS for W in W_LAYOUTS)  # TORCH first


def parse(text: str) -> Layout:
    """`x=NLC,W=KIO` (either part may be left out: torch's) as a Layout."""
    problem = f"layout={text!r}: x=NCL|NLC and W=a permutation of OIK, e.g. x=NLC,W=KIO"
    parts = dict(part.partition("=")[::2] for part in text.replace(" ", "").split(","))
    if not set(parts) <= {"x", "W"} or not parts:
        raise InvalidParameter("layout", problem)
    layout = Layout(parts.get("x", "NCL"), parts.get("W", "OIK"))
    if layout.x not in X_LAYOUTS or layout.W not in W_LAYOUTS:
        raise InvalidParameter("layout", problem)
    return layout


def check_layout(name: str, value: object) -> None:
    """Case's rule for `layout`: None, or a string `parse` takes."""
    if value is None:
        return
    if not isinstance(value, str):
        raise WrongType(name, f"{name}={value!r}: must be a string like x=NLC,W=KIO")
    parse(value)


# One forward pass under a layout: y as (N, C_out, L_out), and whether W had to be regrouped
# (a flat store) to fit; raises when the layer refuses it.
Attempt = Callable[[Layout], tuple[np.ndarray, bool]]


def settle(
    run: Callable[[Layout], Any],
    attempt: Attempt,
    spec: ConvSpec,
    tensors: Tensors,
    given: str | None,
) -> Any:
    """`run(layout)` (a Driven) in the layer's layout: the given one; torch's where the layer
    takes it as written and no other layout has torch's shapes, or its y matches the reference;
    else the one `find` finds, noted."""
    if given is not None:
        return _told(run(parse(given)))
    try:
        driven = run(TORCH)
    except (Unsupported, MemoryError):
        raise
    except Exception:  # it may be refusing torch's layout: measure
        driven = None
    as_written = driven is not None and not driven.regrouped
    if as_written and not _lookalikes(tensors):
        return driven  # torch's shapes, which no other layout has: nothing to tell apart
    expected = reference_y(spec, tensors)
    if as_written and _matches(driven.tensors["y"], expected):
        return driven
    found, note = find(attempt, tensors, expected)
    if found != TORCH or driven is None:
        driven = run(found)
    return _told(driven._replace(notes=[note, *driven.notes]) if note else driven)


def _told(driven: Any) -> Any:
    """A layer in a layout of its own is told that the report keeps torch's axes."""
    if driven.layout == TORCH:
        return driven
    return driven._replace(notes=[*driven.notes, AXES_NOTE])


def reference_y(spec: ConvSpec, tensors: Tensors) -> np.ndarray:
    """y (N, C_out, L_out) from our own numpy layer, in float64: what a layout must match."""
    from ..nn.layer import Conv1D  # here: a worker loads the layer only to find a layout

    layer = Conv1D(*spec.arguments(), dtype=np.float64, rng=0)
    b = tensors.get("b")
    layer.W = tensors["W"].astype(np.float64)
    layer.b = None if b is None else b.astype(np.float64)
    return layer(tensors["x"].astype(np.float64))


def find(attempt: Attempt, tensors: Tensors, expected: np.ndarray) -> tuple[Layout, str | None]:
    """The layout under which the layer's forward matches `expected`, and a note saying how it
    was found (None: torch's, as written). Raise Unusable when no layout or several fit."""
    first = _outcome(attempt, TORCH)
    exact = not isinstance(first, BaseException) and not first[1]
    if exact and _matches(first[0], expected):
        return TORCH, None
    # Torch's layout runs as written but its forward is off: only layouts whose shapes cannot be
    # told from torch's could be the layer's (C_in = C_out = K, L = C_in); else any may.
    others = _lookalikes(tensors) if exact else _distinct(CANDIDATES, tensors)[1:]
    tried = {c: _outcome(attempt, c) for c in others}
    if not exact:
        tried = {TORCH: first} | tried
    ran = [c for c, o in tried.items() if not isinstance(o, BaseException)]
    matched = [c for c in ran if _matches(tried[c][0], expected)]
    if len(matched) == 1:
        found = matched[0]
        regrouped = " (W regrouped to the layer's shape)" if tried[found][1] else ""
        return found, f"layout found by measurement: {found}{regrouped}"
    if exact and not matched:
        return TORCH, None  # torch's layout, as written: the forward's error is the layer's
    if not ran and isinstance(first, BaseException):
        raise first  # no layout runs: the layer's own error under torch's
    raise Unusable(_unconfirmed(matched, ran, first))


def _unconfirmed(matched: list[Layout], ran: list[Layout], first: object) -> str:
    """Why no layout can be used: several match, or none of those the layer takes."""
    if matched:
        return (
            f"the forward matches under several layouts ({', '.join(map(str, matched))}): "
            "give --layout to say which is the layer's"
        )
    if len(ran) == 1:
        text = (
            f"the layer takes its tensors only as {ran[0]}, and its forward does not match "
            f"there: to judge it so, give --layout {ran[0]}"
        )
    else:
        text = (
            f"the layer's shapes fit {len(ran)} layouts ({', '.join(map(str, ran))}) and under "
            "none does its forward match: give --layout to say which is the layer's"
        )
    if isinstance(first, Exception) and not isinstance(first, Unusable):
        text += f" (as {TORCH} its forward raised {type(first).__name__})"
    return text


def _outcome(attempt: Attempt, layout: Layout) -> tuple[np.ndarray, bool] | BaseException:
    try:
        return attempt(layout)
    except Exception as error:  # the layer refuses this layout
        return error


def _matches(y: np.ndarray, expected: np.ndarray) -> bool:
    if np.shape(y) != expected.shape:
        return False
    with np.errstate(all="ignore"):
        off = float(np.linalg.norm(np.asarray(y, dtype=np.float64) - expected))
    return off <= MATCH * float(np.linalg.norm(expected))


def _lookalikes(tensors: Tensors) -> list[Layout]:
    """The other layouts under which x and W have torch's shapes (C_in = C_out = K, L = C_in)."""
    x, W = tensors["x"], tensors["W"]
    return [
        layout
        for layout in _distinct(CANDIDATES, tensors)[1:]
        if layout.data(x).shape == x.shape and layout.weights(W).shape == W.shape
    ]


def _same_numbers(a: np.ndarray, b: np.ndarray) -> bool:
    """The same numbers in the same order (in C order), whatever the shapes."""
    return np.array_equal(np.ravel(a), np.ravel(b))


def _distinct(layouts: tuple[Layout, ...], tensors: Tensors) -> list[Layout]:
    """The layouts that give the layer different tensors (with a single channel or tap, some
    give the same numbers in the same order): the first of each kind."""
    x, W = tensors["x"], tensors["W"]
    kept: list[Layout] = []
    for layout in layouts:
        same = any(
            _same_numbers(k.data(x), layout.data(x))
            and _same_numbers(k.weights(W), layout.weights(W))
            for k in kept
        )
        if not same:
            kept.append(layout)
    return kept
