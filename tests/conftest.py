import os
import signal
import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import pytest

from conv1d_check import Conv1D
from conv1d_check.check import torch_side as torch_ref
from conv1d_check.check.tolerance import Tolerance, compare, term_counts
from conv1d_check.nn import layer as layer_module
from conv1d_check.nn.spec import ConvSpec
from conv1d_check.usercode.environment import ONE_THREAD


def pytest_configure(config):
    """The test processes (two on this 2-core machine: pyproject's addopts), and every process
    they start, compute on one thread each: the tests check results, not speed, and BLAS's and
    OpenMP's idle threads spin on the cores the other processes need (the suite: 155 s on one
    thread each, 205 s on the default two). Runs before xdist starts its processes, which
    inherit the variables; one already set is kept."""
    for name, value in ONE_THREAD.items():
        os.environ.setdefault(name, value)


def make_layer(spec: ConvSpec, dtype=np.float64, seed: int = 0) -> Conv1D:
    return Conv1D(*spec.arguments(), dtype=dtype, rng=seed)


@contextmanager
def forced(path: str):
    """Every Conv1D forward inside the block takes `path`, whatever the shape (the layer
    looks `choose_path` up in its own module)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(layer_module, "choose_path", lambda spec, batch, length: path)
        yield


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


def _sigint_at_its_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def tool():
    """Start `conv1d-check ARGS` in a process of its own, as at a shell: SIGINT at its default
    even when the suite itself runs with it ignored (`pytest &`), stdout and stderr piped as
    text, NO_COLOR set; whatever is still running is killed when the test ends, failed or not."""
    started: list[subprocess.Popen] = []

    def start(*args, env: dict | None = None) -> subprocess.Popen:
        child = subprocess.Popen(
            [sys.executable, "-m", "conv1d_check", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=os.environ | {"NO_COLOR": "1"} | (env or {}),
            preexec_fn=_sigint_at_its_default,
        )
        started.append(child)
        return child

    yield start
    for child in started:
        if child.poll() is None:
            child.kill()
        child.communicate()
