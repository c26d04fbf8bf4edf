"""Where a stateful layer keeps its weights and gradients: finding them, putting ours in,
reading its results out.

A layer holds W and b as attributes (among `naming.WEIGHT_NAMES`, `BIAS_NAMES`), on itself or
on an inner object (mytorch's `conv1d_stride1`), as arrays or as Parameter-like objects with the
array in `.data` and the gradient in `.grad`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .naming import BIAS_NAMES, INNER_NAMES, WEIGHT_NAMES
from .protocol import Tensors, Unusable


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


def read_weights(layer: Any) -> Tensors:
    """The weights the layer made for itself (for the 'weights did not take effect' diagnosis)."""
    found = {}
    for key, names in (("W", WEIGHT_NAMES), ("b", BIAS_NAMES)):
        where = places(layer, names)
        if where:
            found[key] = value(*where[0]).copy()
    return found


def bias_or_zeros(tensors: Tensors) -> np.ndarray:
    """b, or zeros for a layer that always has a bias, in a case without one."""
    return tensors["b"] if "b" in tensors else np.zeros(tensors["W"].shape[0], tensors["W"].dtype)


def put_weights(layer: Any, tensors: Tensors) -> None:
    """Set W and b wherever the layer keeps them: every such attribute, inner objects too."""
    weights = {"W": tensors["W"], "b": bias_or_zeros(tensors)}
    for key, names in (("W", WEIGHT_NAMES), ("b", BIAS_NAMES)):
        where = places(layer, names)
        if not where and key == "W":
            raise Unusable(f"found no weights among the attributes {', '.join(names)}")
        for obj, name in where:
            current = value(obj, name)
            if current.shape != weights[key].shape:
                raise Unusable(
                    f"{type(obj).__name__}.{name} has shape {current.shape}, "
                    f"expected {weights[key].shape}"
                )
            if isinstance(getattr(obj, name), np.ndarray):
                setattr(obj, name, weights[key].copy())
            else:
                getattr(obj, name).data = weights[key].copy()


def confirm_weights(layer: Any, tensors: Tensors) -> None:
    """Our weights must still be in place after forward (a layer may re-initialise them)."""
    for obj, name in places(layer, WEIGHT_NAMES):
        if not np.array_equal(value(obj, name), tensors["W"]):
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
        for name in WEIGHT_NAMES if key == "dW" else BIAS_NAMES:
            grad = getattr(getattr(obj, name, None), "grad", None)
            if grad is not None:
                return grad
    return None


def as_array(found: Any) -> np.ndarray | None:
    """What the layer gave, as a copy of its numbers (a later change to its buffers changes
    nothing here); None for nothing."""
    if found is None:
        return None
    array = np.array(found)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise Unusable(f"the layer gave a {type(found).__name__}, not an array of numbers")
    return array
