"""The calling conventions a user's layer may follow: one adapter each, in one table.

- seed: the notebook's. Conv1D(in, out, K, stride); W, b; `__call__(x)`;
  `backward(delta) -> (db, dW, dX)`.
- mytorch: CMU 11-785's. Constructor with `weight_init_fn`/`bias_init_fn`; `forward(x)`;
  `backward(delta) -> dX`; gradients in `dW`/`db` or `dLdW`/`dLdb`, possibly on an inner
  `conv1d_stride1`.
- layer: any stateful object; constructor arguments matched by name; weights and gradients
  found among common attribute names (`weight.data`, `weight.grad`...).
- functional: a module with `forward(x, w, b, stride, ...) -> (y, cache)` and
  `backward(dy, cache) -> (dx, dw, db)`.

Each adapter builds the layer for a case, drives forward and backward on the case's tensors
in the layer's layout (given, or found by `layout.settle` from one forward pass per candidate),
and names what came back; a new convention is one more class in `CONVENTIONS`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..nn.spec import ConvSpec
from . import storage
from .layout import TORCH, Layout, settle
from .naming import (
    BIAS_NAMES,
    GRADIENT_NAMES,
    WEIGHT_NAMES,
    X_NAMES,
    arguments,
    parameters,
    refuse_unsupported,
    required,
)
from .protocol import Tensors, Unusable


class Driven(NamedTuple):
    """One forward and backward: the layer's tensors (copied as they were returned), the
    weights it built for itself, the instance (None when stateless), notes on how it keeps
    and returns things, and why its backward gave nothing (None: it did)."""

    tensors: Tensors
    initial: Tensors
    layer: Any
    notes: list[str]
    unimplemented: str | None = None
    layout: Layout = TORCH  # the axes the layer takes its tensors in
    regrouped: bool = False  # it keeps W's elements in a shape of its own


class Convention:
    """How to drive layers of one calling convention."""

    name: ClassVar[str]
    # The order in which backward returns several gradients; None: told apart by their shapes.
    return_order: ClassVar[tuple[str, ...] | None] = None

    def drive(
        self, target: Any, spec: ConvSpec, tensors: Tensors, layout: str | None = None
    ) -> Driven:
        """Build the layer for `spec`, forward x and backward dy (tensors: x, W, b, dy, ours),
        in `layout` (as `--layout` gives it; None: found, see `layout.settle`)."""
        return settle(
            lambda found: self.run(target, spec, tensors, found),
            lambda found: self.attempt(target, spec, tensors, found),
            spec,
            tensors,
            layout,
        )

    def run(self, target: Any, spec: ConvSpec, tensors: Tensors, layout: Layout) -> Driven:
        """Build the layer, forward x and backward dy in `layout`: results as ours."""
        raise NotImplementedError

    def attempt(
        self, target: Any, spec: ConvSpec, tensors: Tensors, layout: Layout
    ) -> tuple[np.ndarray, bool]:
        """One forward on a fresh layer in `layout`: y (ours), and whether W was regrouped."""
        return self.forward_function(target, spec, tensors, layout)(
            tensors["x"], tensors["W"], storage.bias_or_zeros(tensors)
        ), False

    def again(self, layer: Any, tensors: Tensors, layout: Layout = TORCH) -> Driven:
        """Forward and backward once more on the same instance."""
        raise NotImplementedError

    def forward_function(
        self, target: Any, spec: ConvSpec, tensors: Tensors, layout: Layout = TORCH
    ) -> Forward:
        """y as a function of (x, W, b), computed by the layer: its own forward alone (all
        three ours, y too; the layer gets them in `layout`)."""
        raise NotImplementedError

    def name_results(self, returned: Any, tensors: Tensors, layout: Layout) -> dict[str, Any]:
        """Name what backward returned: a lone array is dX; several come in `return_order`,
        or are told apart by their shapes (in the layer's layout) where they differ, else taken
        as (dX, dW, db)."""
        x_shape = layout.data(tensors["x"]).shape
        if _shape(returned) == x_shape:  # dX alone, an array or nested lists
            return {"dX": returned}
        items = list(returned) if isinstance(returned, tuple | list) else [returned]
        if len(items) == 1:
            return {"dX": items[0]}
        W = tensors["W"]
        shapes = {"dX": x_shape, "dW": layout.weights(W).shape, "db": W.shape[:1]}
        by_shape = {k: item for item in items for k, s in shapes.items() if np.shape(item) == s}
        if self.return_order is None and len(by_shape) == len(items):
            return by_shape
        order = self.return_order or ("dX", "dW", "db")
        if len(items) == len(order) or (len(items) == 2 and order[0] == "dX"):  # (dx, dw): no b
            return dict(zip(order, items, strict=False))
        return by_shape


Forward = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape `value` has as an array; None for a ragged list."""
    try:
        return np.shape(value)
    except ValueError:
        return None


def _wanted(tensors: Tensors) -> tuple[str, ...]:
    return ("dX", "dW", "db") if "b" in tensors else ("dX", "dW")


class Layer(Convention):
    """A stateful object built by parameter names, its weights and gradients as attributes."""

    name = "layer"

    def run(self, target: Any, spec: ConvSpec, tensors: Tensors, layout: Layout) -> Driven:
        layer = self.build(target, spec, tensors)
        initial = storage.read_weights(layer, tensors, layout)
        return self.again(layer, tensors, layout)._replace(initial=initial)

    def attempt(
        self, target: Any, spec: ConvSpec, tensors: Tensors, layout: Layout
    ) -> tuple[np.ndarray, bool]:
        layer = self.build(target, spec, tensors)
        storage.make_weights(layer, _forward(layer), layout.data(tensors["x"]))
        kept = storage.put_weights(layer, tensors, layout)
        y = _forward(layer)(layout.data(tensors["x"]).copy())
        return layout.data(np.asarray(y, dtype=np.float64)), "W" in kept

    def build(self, target: Any, spec: ConvSpec, tensors: Tensors) -> Any:
        """A fresh instance; init callbacks, where taken, hand it the case's weights."""
        params = parameters(target)
        kwargs, taken = arguments(params, spec)
        # A lazy layer learns C_in at its first forward: its constructor has no name for it.
        missing = {"out_channels", "kernel_size"} - taken
        if "in_channels" not in taken and required(params, kwargs):
            missing.add("in_channels")
        if missing:
            raise Unusable(
                f"cannot tell which constructor parameters are {', '.join(sorted(missing))} "
                f"(it takes {', '.join(params)}); try --convention"
            )
        refuse_unsupported(spec, taken, "the layer's constructor")
        if "weight_init_fn" in params:
            kwargs["weight_init_fn"] = lambda *shape: tensors["W"].copy()
        if "bias_init_fn" in params:
            kwargs["bias_init_fn"] = lambda *shape: storage.bias_or_zeros(tensors).copy()
        return target(**kwargs)

    def again(self, layer: Any, tensors: Tensors, layout: Layout = TORCH) -> Driven:
        notes = storage.make_weights(layer, _forward(layer), layout.data(tensors["x"]))
        layouts = storage.put_weights(layer, tensors, layout)
        notes += storage.layout_notes(layouts, tensors, layout)
        x, dy = layout.data(tensors["x"]).copy(), layout.data(tensors["dy"]).copy()
        returned_y = _forward(layer)(x)
        theirs_y = storage.as_array("y", returned_y, notes)
        storage.confirm_weights(layer, tensors, layout)
        how = {"layout": layout, "regrouped": "W" in layouts}
        y = layout.data(theirs_y)
        backward = getattr(layer, "backward", None)
        if backward is None:
            return Driven({"y": y}, {}, layer, notes, "the layer has no backward method", **how)
        try:
            returned = backward(dy)
        except NotImplementedError as error:
            why = f"its backward raised NotImplementedError{f': {error}' if str(error) else ''}"
            return Driven({"y": y}, {}, layer, notes, why, **how)
        found = self.name_results(returned, tensors, layout)
        for key, names in GRADIENT_NAMES.items():
            if found.get(key) is None:
                found[key] = storage.gradient_attribute(layer, key, names)
        results = {"y": y}
        for key in _wanted(tensors):
            array = storage.as_array(key, found.get(key), notes)
            if array is not None:
                results[key] = storage.in_our_shape(key, array, layouts, tensors, layout)
        given = {"x": (x, tensors["x"]), "dy": (dy, tensors["dy"])}
        notes += _changed_in_place(returned_y, theirs_y, given, layout)
        return Driven(results, {}, layer, notes, **how)

    def forward_function(
        self, target: Any, spec: ConvSpec, tensors: Tensors, layout: Layout = TORCH
    ) -> Forward:
        layer = self.build(target, spec, tensors)
        storage.make_weights(layer, _forward(layer), layout.data(tensors["x"]))

        def forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            storage.put_weights(layer, tensors | {"W": W, "b": b}, layout)
            y = np.array(_forward(layer)(layout.data(x).copy()))  # a copy, in the layer's dtype
            return layout.data(y)

        return forward


def _changed_in_place(returned_y: Any, y: np.ndarray, inputs: dict, layout: Layout) -> list[str]:
    """Notes on buffers the layer changed after the fact: its y by backward, its inputs
    (given in `layout`, beside ours)."""
    notes = []
    if isinstance(returned_y, np.ndarray) and not np.array_equal(returned_y, y, equal_nan=True):
        notes.append(
            "backward changed the array forward returned as y (the layer reuses its buffer): "
            "y is judged as forward returned it"
        )
    for name, (given, original) in inputs.items():
        if not np.array_equal(given, layout.data(original), equal_nan=True):
            notes.append(f"the layer changed its input {name} in place")
    return notes


class Mytorch(Layer):
    """CMU 11-785's layers: a Layer whose constructor takes init callbacks."""

    name = "mytorch"


class Seed(Layer):
    """The notebook's: Conv1D(in, out, K, stride) positionally; backward returns (db, dW, dX)."""

    name = "seed"
    return_order = ("db", "dW", "dX")

    def build(self, target: Any, spec: ConvSpec, tensors: Tensors) -> Any:
        refuse_unsupported(spec, {"stride"}, "the layer's constructor")
        args = (spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride)
        try:
            inspect.signature(target).bind(*args)
        except TypeError:
            raise Unusable(
                f"the seed convention calls {target.__name__}(in, out, K, stride), but it takes "
                f"({', '.join(parameters(target))}): try --convention layer"
            ) from None
        except ValueError:  # no signature to check: let the call tell
            pass
        return target(*args)


class Functional(Convention):
    """A module: forward(x, w, b, stride, ...) -> (y, cache); backward(dy, cache) -> grads."""

    name = "functional"
    return_order = ("dX", "dW", "db")

    def run(self, module: ModuleType, spec: ConvSpec, tensors: Tensors, layout: Layout) -> Driven:
        notes: list[str] = []
        forward, kwargs, _ = self.arguments(module, spec, tensors, layout)
        returned = forward(**kwargs)
        pair = isinstance(returned, tuple) and len(returned) == 2
        y, cache = returned if pair else (returned, None)
        y = layout.data(storage.as_array("y", y, notes))
        backward = _pick(module, "backward", required=False)
        if backward is None:
            why = "the module has no backward function"
            return Driven({"y": y}, {}, None, notes, why, layout)
        try:
            grads = backward(layout.data(tensors["dy"]).copy(), cache)
        except NotImplementedError:
            why = "its backward raised NotImplementedError"
            return Driven({"y": y}, {}, None, notes, why, layout)
        found = self.name_results(grads, tensors, layout)
        results = {"y": y}
        for key in _wanted(tensors):
            array = storage.as_array(key, found.get(key), notes)
            if array is not None:
                results[key] = storage.in_our_shape(key, array, {}, tensors, layout)
        return Driven(results, {}, None, notes, layout=layout)

    def arguments(self, module: ModuleType, spec: ConvSpec, tensors: Tensors, layout: Layout):
        """The module's forward, the keyword arguments that run it on the case (x and W in
        `layout`), and the names its x, W and b go by."""
        forward = _pick(module, "forward")
        params = parameters(forward)
        kwargs, taken = arguments(params, spec)
        refuse_unsupported(spec, taken, f"{forward.__name__}()")
        inputs = {
            "x": layout.data(tensors["x"]),
            "W": layout.weights(tensors["W"]),
            "b": storage.bias_or_zeros(tensors),
        }
        names = {}
        for key, candidates in (("x", X_NAMES), ("W", WEIGHT_NAMES), ("b", BIAS_NAMES)):
            name = next((n for n in candidates if n in params and n not in kwargs), None)
            if name is None:
                raise Unusable(f"{forward.__name__}() has no parameter for {key}")
            kwargs[name], names[key] = inputs[key].copy(), name
        return forward, kwargs, names

    def forward_function(
        self, module: ModuleType, spec: ConvSpec, tensors: Tensors, layout: Layout = TORCH
    ) -> Forward:
        forward, kwargs, names = self.arguments(module, spec, tensors, layout)

        def run(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            given = {
                names["x"]: layout.data(x).copy(),
                names["W"]: layout.weights(W).copy(),
                names["b"]: b.copy(),
            }
            returned = forward(**(kwargs | given))
            y = returned[0] if isinstance(returned, tuple) and len(returned) == 2 else returned
            return layout.data(np.array(y))  # a copy, in the layer's dtype

        return run


CONVENTIONS: dict[str, Convention] = {c.name: c for c in (Seed(), Mytorch(), Layer(), Functional())}


def detect(target: Any) -> str:
    """The calling convention of a class or module, from its signature alone.

    A module is functional; a constructor with init callbacks is mytorch; one of exactly four
    required parameters is the notebook's (in, out, K, stride); any other class is a layer
    whose constructor is called by parameter names.
    """
    if isinstance(target, ModuleType):
        return Functional.name
    params = parameters(target)
    if {"weight_init_fn", "bias_init_fn"} & set(params):
        return Mytorch.name
    required = [p for p in params.values() if p.default is inspect.Parameter.empty]
    return Seed.name if len(params) == len(required) == 4 else Layer.name


def accumulation_note(
    convention: str, layer: Any, layout: Layout, tensors: Tensors, first: Tensors
) -> str | None:
    """Whether dW adds up when the same instance runs backward again, as torch's .grad does."""
    second = CONVENTIONS[convention].again(layer, tensors, layout).tensors.get("dW")
    dW = first.get("dW")
    if dW is None or second is None or dW.shape != second.shape or not dW.any():
        return None
    # The second pass sums the same products: equal or exactly double in a deterministic layer.
    # 1e-4 admits a layer whose summation order varies between calls (threads) and is still far
    # from the 100% that tells doubling from overwriting.
    if np.allclose(second, 2 * dW, rtol=1e-4, atol=0):
        return "gradients accumulate across backward calls, like torch's .grad (reset them)"
    if np.allclose(second, dW, rtol=1e-4, atol=0):
        return "gradients are overwritten on every backward call"
    return None


def _forward(layer: Any):
    if hasattr(layer, "forward"):
        return layer.forward
    if callable(layer):
        return layer
    raise Unusable("the layer has neither forward nor __call__")


def _pick(module: ModuleType, word: str, required: bool = True):
    """The module's function `word`, or its one function whose name contains `word`."""
    if inspect.isfunction(getattr(module, word, None)):
        return getattr(module, word)
    found = [v for n, v in vars(module).items() if word in n and inspect.isfunction(v)]
    if len(found) == 1:
        return found[0]
    if found or required:
        raise Unusable(f"expected one function named like {word!r} in {module.__name__}")
    return None
