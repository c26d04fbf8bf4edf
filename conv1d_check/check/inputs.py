"""The user's own tensors (`--inputs FILE.npz`, or arrays given to the API): x, and optionally
W, b and dy, in place of the seeded ones.

x sets the batch, the input channels and the length, W the output channels and the kernel size
(without W, dy the output channels); a parameter given explicitly must agree. b turns the bias
on; dy must have the output's shape.
What is not given is drawn from the seed as usual. Every array is real floating point and
finite, and is rounded once to the checked dtype (by default x's), which must hold it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.spec import InvalidParameter
from .case import Case

NAMES = ("x", "W", "b", "dy")
ARRAYS = "arrays"  # Case.inputs when the API was given arrays, not a file


def load(source: str | Path | Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of an .npz file (or a mapping), checked on their own: names, dtype, values."""
    arrays = dict(source) if isinstance(source, Mapping) else _read(Path(source))
    unknown = sorted(set(arrays) - set(NAMES))
    if unknown:
        raise _refuse(f"unknown array {unknown[0]!r}: give x, and optionally W, b and dy")
    if "x" not in arrays:
        raise _refuse("no array named x: the input is required (W, b and dy are optional)")
    checked = {}
    for name in (n for n in NAMES if n in arrays):
        array = np.asarray(arrays[name])
        if array.dtype.kind != "f":
            raise _refuse(f"{name} has dtype {array.dtype}: give floating-point values")
        if not np.all(np.isfinite(array)):
            raise _refuse(f"{name} holds NaN or inf: every value must be finite")
        checked[name] = array
    return checked


def fit(case: Case, arrays: Mapping[str, np.ndarray], fixed: Collection[str] = ()) -> Case:
    """`case` with the shapes (and, unless `fixed`, the dtype) the arrays set; a parameter in
    `fixed` (given explicitly) that disagrees, or a shape that does not fit, is refused."""
    x = arrays["x"]
    if x.ndim != 3:
        raise _refuse(f"x has shape {x.shape}: it must be (N, C_in, L)")
    found: dict[str, Any] = dict(zip(("batch", "in_channels", "length"), x.shape, strict=True))
    if "W" in arrays:
        W = arrays["W"]
        if W.ndim != 3:
            raise _refuse(f"W has shape {W.shape}: it must be (C_out, C_in/groups, K)")
        found |= {"out_channels": W.shape[0], "kernel_size": W.shape[2]}
    elif "dy" in arrays and arrays["dy"].ndim == 3:
        found["out_channels"] = arrays["dy"].shape[1]
    if "b" in arrays:
        found["bias"] = True
    if "dtype" not in fixed and x.dtype.name in ("float32", "float64"):
        found["dtype"] = x.dtype.name
    for name, value in found.items():
        if name in fixed and getattr(case, name) != value:
            given = getattr(case, name)
            raise _refuse(f"the arrays make {name}={value}, but {name}={given} was given")
    fitted = replace(case, **found)
    check_fits(fitted, arrays)
    return fitted


def given_tensors(case: Case, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays, checked against the case (`check_fits`) and rounded to its dtype."""
    check_fits(case, arrays)
    return {name: array.astype(case.dtype) for name, array in arrays.items()}


def check_fits(case: Case, arrays: Mapping[str, np.ndarray]) -> None:
    """Refuse arrays of other shapes than the case's, or that its dtype cannot hold."""
    spec = case.spec
    shapes = {
        "x": (case.batch, spec.in_channels, case.length),
        "W": spec.weight_shape,
        "b": (spec.out_channels,),
        "dy": (case.batch, spec.out_channels, case.output_length),
    }
    if "b" in arrays and not spec.bias:
        raise _refuse("b is given but the case has no bias")
    largest = float(np.finfo(case.dtype).max)
    for name, array in arrays.items():
        if array.shape != shapes[name]:
            raise _refuse(f"{name} has shape {array.shape}, the case needs {shapes[name]}")
        reach = float(np.max(np.abs(array), initial=0.0))
        if reach > largest:
            raise _refuse(
                f"{name} holds {reach:.3g}, beyond {case.dtype}'s largest number ({largest:.3g})"
            )


def _read(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise _refuse(f"{path} holds one array: give an .npz file (np.savez(path, x=...))")
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except (OSError, ValueError, EOFError) as error:
        raise _refuse(f"{path} cannot be read as an .npz file of arrays ({error})") from None


def _refuse(message: str) -> InvalidParameter:
    return InvalidParameter("inputs", message)
