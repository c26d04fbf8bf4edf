"""The verdict is right both ways: a correct layer never fails, a wrong one always does."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import cases

from conv1d_check import Case, InvalidParameter, assert_matches_torch, check
from conv1d_check.check import torch_side, verify
from conv1d_check.check.tensors import make_tensors
from conv1d_check.usercode.builtin import run_builtin


def case_from(spec, batch, length, **extra):
    return Case(
        in_channels=spec.in_channels,
        out_channels=spec.out_channels,
        kernel_size=spec.kernel_size,
        stride=spec.stride,
        padding=spec.padding,
        dilation=spec.dilation,
        groups=spec.groups,
        bias=spec.bias,
        padding_mode=spec.padding_mode,
        batch=batch,
        length=length,
        **extra,
    )


@settings(max_examples=150, deadline=None)
@given(cases(), st.sampled_from(["float64", "float32"]), st.integers(0, 2**32 - 1))
def test_the_builtin_layer_never_fails(case, dtype, seed):
    result = check(case_from(*case, dtype=dtype, seed=seed))
    assert result.status == "pass", result.message


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_large_case_passes(dtype):
    result = check(
        batch=16, in_channels=128, out_channels=128, kernel_size=9, length=2048, dtype=dtype
    )
    assert result.status == "pass", result.message


def test_the_default_case_is_the_notebooks():
    case = Case()
    assert (case.batch, case.in_channels, case.out_channels, case.length) == (3, 8, 12, 20)
    assert (case.kernel_size, case.stride, case.seed, case.dtype) == (3, 2, 10, "float64")
    result = check()
    assert result.status == "pass"
    assert all(0 <= result.errors[name].max_abs < 1e-14 for name in ("y", "dX", "dW", "db"))


def test_tensors_are_seeded_rounded_once_and_documented():
    case = Case(dtype="float32", seed=3)
    tensors = make_tensors(case)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 8, 20))
    bound = 1 / np.sqrt(8 * 3)
    W = rng.uniform(-bound, bound, (12, 8, 3))
    b = rng.uniform(-bound, bound, 12)
    dy = rng.standard_normal((3, 12, 9))
    for name, value in dict(x=x, W=W, b=b, dy=dy).items():
        assert tensors[name].dtype == np.float32
        np.testing.assert_array_equal(tensors[name], value.astype(np.float32))
    assert np.all(tensors["b"] != 0)


def perturbed(name, index, relative):
    """A run_layer that gives the builtin layer's results with one element nudged."""

    def run(case, tensors):
        run = run_builtin(case.spec, tensors)
        run.tensors[name][index] *= 1 + relative
        return run

    return run


@pytest.mark.parametrize(
    "name, index, dtype, relative",
    [
        ("y", (1, 4, 2), "float64", 1e-9),
        ("dX", (2, 7, 18), "float64", 1e-9),
        ("dW", (11, 0, 1), "float64", 1e-9),
        ("db", (5,), "float64", 1e-9),
        ("y", (0, 0, 0), "float32", 1e-3),
        ("dW", (3, 3, 2), "float32", 1e-3),
    ],
)
def test_one_wrong_element_fails_and_is_located(monkeypatch, name, index, dtype, relative):
    monkeypatch.setattr(verify, "run_layer", perturbed(name, index, relative))
    result = check(dtype=dtype)
    assert result.status == "fail"
    assert result.errors[name].mismatched == 1
    assert result.errors[name].worst_index == index
    assert all(e.passed for n, e in result.errors.items() if n != name)
    assert result.message.startswith(f"{name}: 1 / ")


def test_assert_matches_torch_raises_with_the_explanation(monkeypatch):
    assert_matches_torch(kernel_size=5, dtype="float32")
    monkeypatch.setattr(verify, "run_layer", perturbed("dX", (0, 0, 0), 1e-6))
    with pytest.raises(
        AssertionError, match=r"(?s)dX: 1 / 480 elements .* Worst at index \(0, 0, 0\)"
    ):
        assert_matches_torch()


def test_invalid_parameters_raise_before_anything_runs():
    with pytest.raises(InvalidParameter, match="groups=5"):
        check(groups=5)


def test_a_wrong_shape_is_a_failure_not_a_crash(monkeypatch):
    def run(case, tensors):
        run = run_builtin(case.spec, tensors)
        run.tensors["dX"] = run.tensors["dX"][..., :-1]
        return run

    monkeypatch.setattr(verify, "run_layer", run)
    result = check()
    assert result.status == "fail"
    assert "dX: shape (3, 8, 19), expected (3, 8, 20)" in result.message
    assert "dX" not in result.errors and result.errors["y"].passed


def test_a_wrong_dtype_is_a_failure(monkeypatch):
    def run(case, tensors):
        run = run_builtin(case.spec, tensors)
        run.tensors["y"] = run.tensors["y"].astype(np.float64)
        return run

    monkeypatch.setattr(verify, "run_layer", run)
    result = check(dtype="float32")
    assert result.status == "fail"
    assert "y: dtype float64 in a float32 check" in result.message


def test_torch_drift_is_reported_beside_the_verdict():
    """An explicit tolerance of zero: torch float32 is off the float64 truth, and that is said."""
    result = check(dtype="float32", atol=0.0, rtol=0.0)
    assert result.torch_errors["y"].max_abs > 0
    assert any("torch itself is outside the bound" in note for note in result.diagnosis)
    assert not any("TF32" in note for note in result.diagnosis)  # a CPU run: no GPU to blame


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "circular", "replicate"])
def test_the_torch_side_gives_what_backward_of_dy_gives_bit_for_bit(padding_mode, dtype):
    """torch_side backpropagates Σ y·dy (no sympy import); y.backward(dy) is the reference."""
    import torch

    case = Case(
        in_channels=4,
        out_channels=6,
        kernel_size=3,
        stride=2,
        padding=2,
        padding_mode=padding_mode,
        dtype=dtype,
        batch=3,
        length=25,
    )
    t = make_tensors(case)
    layer = torch.nn.Conv1d(*case.spec.arguments(), dtype=getattr(torch, dtype))
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(t["W"]))
        layer.bias.copy_(torch.from_numpy(t["b"]))
    x = torch.from_numpy(t["x"]).requires_grad_()
    y = layer(x)
    y.backward(torch.from_numpy(t["dy"]))
    expected = {"y": y.detach(), "dX": x.grad, "dW": layer.weight.grad, "db": layer.bias.grad}
    got = torch_side.conv1d(case.spec, t["x"], t["W"], t["b"], t["dy"])
    for name, tensor in expected.items():
        np.testing.assert_array_equal(got[name], tensor.numpy(), err_msg=name)


def test_torch_imported_inside_one_thread_computes_on_one_and_gets_its_own_count_back():
    """A fresh process (torch not yet imported), torch's default of two threads."""
    script = (
        "import sys\n"
        "from conv1d_check.check import torch_side\n"
        "with torch_side.one_thread():\n"
        "    assert 'torch' not in sys.modules\n"
        "    inside = torch_side._torch().get_num_threads()\n"
        "print(inside, sys.modules['torch'].get_num_threads())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=os.environ | {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
    )
    assert done.stdout.split() == ["1", "2"], done.stderr
