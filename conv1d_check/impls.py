"""The layers under test, behind one call: `run_layer(case, tensors)`.

`builtin` is our own numpy Conv1D, run in this process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .case import BUILTIN, Case
from .layer import Conv1D

Tensors = dict[str, np.ndarray]


@dataclass
class LayerRun:
    """What running a layer gave: its outputs (y, dX, dW, db), or why there are none.

    status is "ok", "skip" (the layer cannot take the case's parameters) or
    "error" (it raised, hung, crashed or gave something unusable).
    """

    outputs: Tensors = field(default_factory=dict)
    status: str = "ok"
    message: str = ""
    convention: str = BUILTIN
    notes: list[str] = field(default_factory=list)
    output: str = ""


def run_builtin(case: Case, tensors: Tensors) -> LayerRun:
    """Our Conv1D with the case's weights: forward x, backward dy."""
    spec = case.spec
    layer = Conv1D(
        spec.in_channels,
        spec.out_channels,
        spec.kernel_size,
        spec.stride,
        spec.padding,
        spec.dilation,
        spec.groups,
        spec.bias,
        spec.padding_mode,
        dtype=case.dtype,
    )
    layer.W, layer.b = tensors["W"], tensors.get("b")
    y = layer(tensors["x"])
    db, dW, dX = layer.backward(tensors["dy"])
    outputs = {"y": y, "dX": dX, "dW": dW}
    if db is not None:
        outputs["db"] = db
    return LayerRun(outputs)


def run_layer(case: Case, tensors: Tensors) -> LayerRun:
    """Run the case's implementation on `tensors` (x, W, b, dy)."""
    if case.impl == BUILTIN:
        return run_builtin(case, tensors)
    raise NotImplementedError(case.impl)
