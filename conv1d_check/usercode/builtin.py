"""Our own numpy Conv1D as the layer under test, run in this process."""

from __future__ import annotations

from ..nn.layer import Conv1D
from ..nn.spec import ConvSpec
from .protocol import LayerRun, Tensors


def run_builtin(spec: ConvSpec, tensors: Tensors) -> LayerRun:
    """Conv1D(spec) with the case's weights W, b: forward x, backward dy."""
    layer = Conv1D(*spec.arguments(), dtype=tensors["x"].dtype, rng=0)
    layer.W, layer.b = tensors["W"], tensors.get("b")
    y = layer(tensors["x"])
    db, dW, dX = layer.backward(tensors["dy"])
    found = {"y": y, "dX": dX, "dW": dW}
    if db is not None:
        found["db"] = db
    return LayerRun(found)
