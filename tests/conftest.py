import numpy as np
import pytest

from conv1d_check import Conv1D
from conv1d_check.check import torch_side as torch_ref
from conv1d_check.check.tolerance import Tolerance, compare, term_counts
from conv1d_check.nn.spec import ConvSpec


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


def assert_float32_within_bound(layer: Conv1D, x: np.ndarray) -> None:
    """float32 results stay float32 and within the rounding bound of the float64 truth."""
    ours = run_layer(layer, x)
    truth = torch_ref.oracle(layer.spec, x, layer.W, layer.b, ours["dy"])
    counts = term_counts(layer.spec, *x.shape[::2])
    for name, expected in truth.values.items():
        assert ours[name].dtype == np.float32, name
        allowance = Tolerance().allowance(truth.sums(name, counts[name]), np.float32)
        error = compare(ours[name], expected, allowance)
        assert error.passed, (name, error)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
