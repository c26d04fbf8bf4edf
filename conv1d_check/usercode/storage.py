"""Where a stateful layer keeps its weights and gradients: finding them, putting ours in,
reading its results out.

A layer holds W and b as attributes (among `naming.WEIGHT_NAMES`, `BIAS_NAMES`), on itself or
on an inner object (mytorch's `conv1d_stride1`), as arrays or as Parameter-like objects with the
array in `.data` and the gradient in `.grad`. It may keep them in its own shape, as long as it
holds the same elements in the same order (a bias (C_out, 1), weights (C_out, C_in·K)): ours are
written in that shape, and its gradients of that shape read back from it (`Layouts`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .naming import BIAS_NAMES, INNER_NAMES, WEIGHT_NAMES
from .protocol import Tensors, Unusable

WEIGHTS = {"W": WEIGHT_NAMES, "b": BIAS_NAMES}
GRADIENT_OF = {"dW": "W", "db": "b"}

Layouts = dict[str, tuple[int, ...]]
# Weights this far (relatively) from ours after forward were replaced, not merely cast to a
# narrower precision (bfloat16 keeps 2⁻⁸).
REINITIALISED = 1e-2  # "W" or "b" -> the shape the layer keeps it in


def holders(layer: Any) -> list[Any]:
    """The layer, then inner objects that may hold its parameters (mytorch's conv1d_stride1)."""
    inner = [getattr(layer, n) for n in INNER_NAMES if hasattr(layer, n)]
    return [layer] + [obj for obj in inner if hasattr(obj, "__dict__")]


def places(layer: Any, names: tuple[str, ...]) -> list[tuple[Any, str]]:
    """Every (holder, attribute) among `names` holding an array, or an array in `.data`."""
    return [
        (obj, name)
        for obj in holders(layer)
        for name in names
        if name in vars(obj) and isinstance(value(obj, name), np.ndarray)
    ]


def value(obj: Any, name: str) -> Any:
    """The array behind an attribute, looking through a Parameter-like `.data`."""
    found = getattr(obj, name)
    return found if isinstance(found, np.ndarray) else getattr(found, "data", found)


def bias_or_zeros(tensors: Tensors) -> np.ndarray:
    """b, or zeros for a layer that always has a bias, in a case without one."""
    return tensors["b"] if "b" in tensors else np.zeros(tensors["W"].shape[0], tensors["W"].dtype)


def read_weights(layer: Any, tensors: Tensors) -> Tensors:
    """The weights the layer made for itself, in our shapes (for the 'weights did not take
    effect' diagnosis)."""
    found = {}
    for key, names in WEIGHTS.items():
        where = places(layer, names)
        ours = tensors["W"] if key == "W" else bias_or_zeros(tensors)
        if where and value(*where[0]).size == ours.size:
            found[key] = np.array(value(*where[0])).reshape(ours.shape)
    return found


def put_weights(layer: Any, tensors: Tensors) -> Layouts:
    """Set W and b wherever the layer keeps them, inner objects too, each in the shape the
    layer keeps it in; return those shapes where they differ from ours."""
    layouts = {}
    for key, names in WEIGHTS.items():
        ours = tensors["W"] if key == "W" else bias_or_zeros(tensors)
        where = places(layer, names)
        if not where and key == "W":
            raise Unusable(f"found no weights among the attributes {', '.join(names)}")
        for obj, name in where:
            current = value(obj, name)
            if current.size != ours.size:
                raise Unusable(
                    f"{type(obj).__name__}.{name} has shape {current.shape}, "
                    f"expected {ours.shape} (or another shape of {ours.size} elements)"
                )
            if current.shape != ours.shape:
                layouts[key] = current.shape
            written = ours.reshape(current.shape).copy()
            if isinstance(getattr(obj, name), np.ndarray):
                setattr(obj, name, written)
            else:
                getattr(obj, name).data = written
    return layouts


def layout_notes(layouts: Layouts, tensors: Tensors) -> list[str]:
    """What a layer keeping its weights in its own shapes is told."""
    shapes = {"W": tensors["W"].shape, "b": bias_or_zeros(tensors).shape}
    return [
        f"{key} is kept as {shape}, not {shapes[key]}: written and read back in that shape"
        for key, shape in layouts.items()
    ]


def confirm_weights(layer: Any, tensors: Tensors) -> None:
    """Our weights must still be in place after forward (a layer may re-initialise them). A
    layer that casts them to a narrower precision keeps them, within REINITIALISED."""
    W = tensors["W"]
    for obj, name in places(layer, WEIGHT_NAMES):
        current = value(obj, name)
        kept = current.size == W.size and np.allclose(
            current.reshape(W.shape), W, rtol=REINITIALISED, atol=0
        )
        if not kept:
            raise Unusable(
                f"the weights put into {type(obj).__name__}.{name} changed during forward "
                "(does forward re-initialise them?)"
            )


def gradient_attribute(layer: Any, key: str, names: tuple[str, ...]) -> Any:
    """A gradient kept as an attribute (dW, dLdW...) or as a Parameter's .grad."""
    for obj in holders(layer):
        for name in names:
            if getattr(obj, name, None) is not None:
                return getattr(obj, name)
    for obj in holders(layer):
        for name in WEIGHTS[GRADIENT_OF[key]]:
            grad = getattr(getattr(obj, name, None), "grad", None)
            if grad is not None:
                return grad
    return None


def in_our_shape(key: str, array: np.ndarray, layouts: Layouts, tensors: Tensors) -> np.ndarray:
    """A gradient dW or db given in the shape the layer keeps its weight in, as ours."""
    weight = GRADIENT_OF.get(key)
    if weight in layouts and array.shape == layouts[weight]:
        ours = tensors["W"] if weight == "W" else bias_or_zeros(tensors)
        return array.reshape(ours.shape)
    return array


def as_array(name: str, found: Any, notes: list[str]) -> np.ndarray | None:
    """What the layer gave for `name`, as a copy of its numbers (a later change to its buffers
    changes nothing here); a list or tuple converted, with a note; None for nothing."""
    if found is None:
        return None
    if isinstance(found, list | tuple):
        notes.append(f"{name} was returned as a {type(found).__name__}: converted to an array")
    try:
        array = np.array(found)  # a ragged list raises
    except (ValueError, TypeError):
        array = None
    if array is None or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise Unusable(f"{name}: the layer gave a {type(found).__name__}, not an array of numbers")
    return array
