import numpy as np
import pytest

from conv1d_check import Conv1D
from conv1d_check.spec import ConvSpec


def make_layer(spec: ConvSpec, dtype=np.float64, seed: int = 0) -> Conv1D:
    return Conv1D(*spec.arguments(), dtype=dtype, rng=seed)


def run_layer(layer: Conv1D, x: np.ndarray, dy_seed: int = 1) -> dict[str, np.ndarray]:
    """Forward x, backpropagate a seeded random dy; the tensors by name, dy included."""
    y = layer(x)
    dy = np.random.default_rng(dy_seed).standard_normal(y.shape).astype(y.dtype)
    db, dW, dX = layer.backward(dy)
    out = {"y": y, "dX": dX, "dW": dW, "dy": dy}
    if db is not None:
        out["db"] = db
    return out


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
