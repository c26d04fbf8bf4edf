"""Where a stateful layer keeps its weights and gradients: finding them, putting ours in,
reading its results out.

A layer holds W and b (among `naming.WEIGHT_NAMES`, `BIAS_NAMES`) as attributes, read with
getattr (properties, descriptors and `__getattr__` too), or in a dict of parameters
(`PARAMETER_DICTS`: `self.params["W"]`); on itself, or else on an inner object (mytorch's
`conv1d_stride1`, or any other attribute's); as arrays or as Parameter-like objects with the
array in `.data` and the gradient in `.grad`. Its gradients are attributes (`GRADIENT_NAMES`),
entries of a dict of gradients (`GRADIENT_DICTS`) or a Parameter's `.grad`.

W is written in the layer's layout (`layout.Layout`, its axes' order over (C_out, C_in/G, K)),
and it may keep the same elements regrouped, in order (a bias (C_out, 1), weights
(C_out, C_in·K)): ours are written in that shape, and its gradients of that shape read back
(`Layouts`).
"""

from __future__ import annotations

from types import FunctionType, MethodType, ModuleType
from typing import Any, NamedTuple

import numpy as np

from .layout import Layout
from .naming import BIAS_NAMES, GRADIENT_DICTS, INNER_NAMES, PARAMETER_DICTS, WEIGHT_NAMES
from .protocol import Tensors, Unusable

WEIGHTS = {"W": WEIGHT_NAMES, "b": BIAS_NAMES}
GRADIENT_OF = {"dW": "W", "db": "b"}

Layouts = dict[str, tuple[int, ...]]  # "W" or "b" -> the regrouped shape the layer keeps it in
# Weights this far (relatively) from ours after forward were replaced, not merely cast to a
# narrower precision (bfloat16 keeps 2⁻⁸).
REINITIALISED = 1e-2


class Place(NamedTuple):
    """Where one tensor is kept: an attribute of an object, or an entry of a dict."""

    owner: Any
    name: str

    def __str__(self) -> str:
        if isinstance(self.owner, dict):
            return f"{self.name!r} of a dict"
        return f"{type(self.owner).__name__}.{self.name}"

    def raw(self) -> Any:
        """What is kept there: an array, a Parameter-like object, anything, or None."""
        return self.owner.get(self.name) if isinstance(self.owner, dict) else _get(*self)

    def array(self) -> Any:
        """The array kept there, looking through a Parameter-like `.data`."""
        found = self.raw()
        return found if isinstance(found, np.ndarray) else _get(found, "data")

    def write(self, array: np.ndarray) -> None:
        """Keep `array` there, as the layer keeps it: in a Parameter's `.data`, through a
        property's setter, or into an array that `__getattr__` hands out."""
        found = self.raw()
        if not isinstance(found, np.ndarray):
            found.data = array
        elif isinstance(self.owner, dict):
            self.owner[self.name] = array
        elif self.name in getattr(self.owner, "__dict__", {}) or hasattr(
            type(self.owner), self.name
        ):
            try:
                setattr(self.owner, self.name, array)
            except AttributeError:  # a property without a setter: its array, in place
                _into(found, array, self)
        else:  # from __getattr__: an attribute set here would shadow it, unread
            _into(found, array, self)


def _into(target: np.ndarray, array: np.ndarray, place: Place) -> None:
    if target.shape != array.shape or not target.flags.writeable:
        raise Unusable(f"cannot write the weights into {place}: it has no setter")
    target[...] = array


def _get(obj: Any, name: str) -> Any:
    """getattr, or None where the attribute is missing or its property raises."""
    try:
        return getattr(obj, name, None)
    except Exception:  # a property that needs a forward first, say
        return None


def holders(layer: Any) -> list[Any]:
    """The layer, then inner objects that may hold its parameters: those of `INNER_NAMES`
    (mytorch's conv1d_stride1) first, then any other attribute's object."""
    named = [_get(layer, n) for n in INNER_NAMES]
    others = list(getattr(layer, "__dict__", {}).values())
    inner = [obj for obj in named + others if _is_object(obj)]
    return [layer] + [obj for i, obj in enumerate(inner) if all(obj is not o for o in inner[:i])]


def _is_object(value: Any) -> bool:
    kinds = (np.ndarray, type, ModuleType, FunctionType, MethodType, dict, list, tuple)
    return hasattr(value, "__dict__") and not isinstance(value, kinds)


def _containers(obj: Any, dicts: tuple[str, ...]) -> list[Any]:
    """The object, then its dicts of parameters (or gradients)."""
    return [obj] + [d for d in (_get(obj, n) for n in dicts) if isinstance(d, dict)]


def _places_on(obj: Any, names: tuple[str, ...]) -> list[Place]:
    return [
        Place(owner, name)
        for owner in _containers(obj, PARAMETER_DICTS)
        for name in names
        if isinstance(Place(owner, name).array(), np.ndarray)
    ]


def places(layer: Any, names: tuple[str, ...]) -> list[Place]:
    """Where the layer keeps a tensor named among `names`: on itself (attributes, dicts of
    parameters), or else on its inner objects."""
    own, *inner = holders(layer)
    found = _places_on(own, names)
    return found or [place for obj in inner for place in _places_on(obj, names)]


def bias_or_zeros(tensors: Tensors) -> np.ndarray:
    """b, or zeros for a layer that always has a bias, in a case without one."""
    return tensors["b"] if "b" in tensors else np.zeros(tensors["W"].shape[0], tensors["W"].dtype)


def theirs(key: str, tensors: Tensors, layout: Layout) -> np.ndarray:
    """W in the layer's axes, or b."""
    return layout.weights(tensors["W"]) if key == "W" else bias_or_zeros(tensors)


def has_weights(layer: Any) -> bool:
    return bool(places(layer, WEIGHT_NAMES))


def make_weights(layer: Any, forward: Any, x: np.ndarray) -> list[str]:
    """A lazy layer makes its weights at its first forward (learning C_in there): call it
    once on x (in its layout), so that ours can be put in after it; a note says so."""
    if has_weights(layer):
        return []
    forward(x.copy())
    return ["the layer makes its weights at its first forward: ours were put in after it"]


def read_weights(layer: Any, tensors: Tensors, layout: Layout) -> Tensors:
    """The weights the layer made for itself, in our shapes (for the 'weights did not take
    effect' diagnosis)."""
    found = {}
    for key, names in WEIGHTS.items():
        where = places(layer, names)
        ours = theirs(key, tensors, layout)
        if where and where[0].array().size == ours.size:
            array = np.array(where[0].array()).reshape(ours.shape)
            found[key] = layout.weights_back(array) if key == "W" else array
    return found


def put_weights(layer: Any, tensors: Tensors, layout: Layout) -> Layouts:
    """Set W (in `layout`) and b wherever the layer keeps them, inner objects too, each in the
    shape the layer keeps it in; return those shapes where they regroup ours."""
    layouts = {}
    for key, names in WEIGHTS.items():
        ours = theirs(key, tensors, layout)
        where = places(layer, names)
        if not where and key == "W":
            raise Unusable(f"found no weights among the attributes {', '.join(names)}")
        for place in where:
            current = place.array()
            if current.shape != ours.shape:
                if current.size != ours.size or not regroups(ours.shape, current.shape):
                    raise Unusable(
                        f"{place} has shape {current.shape}, expected {ours.shape} "
                        f"(or another shape of {ours.size} elements)"
                    )
                layouts[key] = current.shape
            place.write(ours.reshape(current.shape).copy())
    return layouts


def regroups(shape: tuple[int, ...], kept: tuple[int, ...]) -> bool:
    """`kept` merges neighbouring axes of `shape` (axes of length 1 aside): the same elements
    in the same order, (C_out, C_in, K) kept as (C_out, C_in·K)."""
    axes = [n for n in shape if n != 1]
    for n in (n for n in kept if n != 1):
        product = 1
        while axes and product < n:
            product *= axes.pop(0)
        if product != n:
            return False
    return not axes


def layout_notes(layouts: Layouts, tensors: Tensors, layout: Layout) -> list[str]:
    """What a layer keeping its weights in its own shapes is told."""
    return [
        f"{key} is kept as {shape}, not {theirs(key, tensors, layout).shape}: "
        "written and read back in that shape"
        for key, shape in layouts.items()
    ]


def confirm_weights(layer: Any, tensors: Tensors, layout: Layout) -> None:
    """Our weights must still be in place after forward (a layer may re-initialise them). A
    layer that casts them to a narrower precision keeps them, within REINITIALISED."""
    W = layout.weights(tensors["W"])
    for place in places(layer, WEIGHT_NAMES):
        current = place.array()
        kept = current.size == W.size and np.allclose(
            current.ravel(), W.ravel(), rtol=REINITIALISED, atol=0
        )
        if not kept:
            raise Unusable(
                f"the weights put into {place} changed during forward "
                "(does forward re-initialise them?)"
            )


def gradient_attribute(layer: Any, key: str, names: tuple[str, ...]) -> Any:
    """A gradient kept as an attribute (dW, dLdW...), in a dict of gradients (under its own
    name or its weight's: `grads["W"]`), or as a Parameter's .grad."""
    weight_names = WEIGHTS[GRADIENT_OF[key]]
    for obj in holders(layer):
        for owner in _containers(obj, GRADIENT_DICTS):
            keys = names if owner is obj else names + weight_names
            for name in keys:
                found = Place(owner, name).raw()
                if found is not None:
                    return found
    for place in places(layer, weight_names):
        grad = _get(place.raw(), "grad")
        if grad is not None:
            return grad
    return None


def in_our_shape(
    key: str, array: np.ndarray, layouts: Layouts, tensors: Tensors, layout: Layout
) -> np.ndarray:
    """A result in the layer's layout as ours: y and dX (N, C, L) from its axes, dW and db from
    the shape the layer keeps its weight in."""
    if key in ("y", "dX"):
        return layout.data(array)
    weight = GRADIENT_OF[key]
    ours = theirs(weight, tensors, layout)
    if weight in layouts and array.shape == layouts[weight]:
        array = array.reshape(ours.shape)
    if key == "dW" and array.shape == ours.shape:
        return layout.weights_back(array)
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
