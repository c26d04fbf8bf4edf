"""The user's own tensors (--inputs FILE.npz, or arrays): refused in a sentence when they do not
fit; judged soundly when they are not zero-mean or sit at the edges of the dtype's range."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conv1d_check import InvalidParameter, check
from conv1d_check.check.tolerance import PROBABLE, WORST_CASE
from conv1d_check.cli import app

LAYERS = Path(__file__).parent / "layers"
SEQUENTIAL = f"{LAYERS / 'correct_sequential_float32.py'}:Conv1d"
# the built-in layer's kind of geometry, small: N=2, C_in=2, C_out=3, K=3, L=300, stride 1
SMALL = dict(kernel_size=3, stride=1)


def arrays(rng, shift=0.0, scale=1.0, n=2, c=2, length=300, out=3, k=3, dtype=np.float64):
    """x, W and dy of the SMALL geometry (or another), shifted and scaled."""
    return {
        "x": ((shift + rng.standard_normal((n, c, length))) * scale).astype(dtype),
        "W": (rng.uniform(-0.4, 0.4, (out, c, k)) * scale).astype(dtype),
        "dy": ((shift + rng.standard_normal((n, out, length - k + 1))) * scale).astype(dtype),
    }


def layer_with_dw_error(tmp_path, base, name, factor):
    """A user layer file: `base`'s class (in tests/layers) with dW times `factor`."""
    path = tmp_path / f"dw_times_{name}.py"
    module, cls = base.rsplit("/", 1)[-1].removesuffix(".py").split(".py:")[0], "Conv1d"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        f"from {module} import {cls} as Correct\n\n"
        "class Conv1d(Correct):\n"
        "    def backward(self, dy):\n"
        "        dx = super().backward(dy)\n"
        "        for name in ('dW', 'grad_weights'):\n"
        "            if hasattr(self, name):\n"
        f"                setattr(self, name, getattr(self, name) * {factor!r})\n"
        "        return dx\n"
    )
    return f"{path}:Conv1d"


def test_the_arrays_set_the_shapes_and_the_dtype(tmp_path):
    rng = np.random.default_rng(1)
    given = arrays(rng, dtype=np.float32)
    path = tmp_path / "batch.npz"
    np.savez(path, **given)
    result = check(inputs=path, stride=1)
    c = result.case
    assert (c.batch, c.in_channels, c.length, c.out_channels, c.kernel_size) == (2, 2, 300, 3, 3)
    assert c.dtype == "float32" and result.id.endswith("-inputs-batch")
    assert result.status == "pass", result.message


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda a: a | {"z": a["x"]}, "unknown array 'z'"),
        (lambda a: {"W": a["W"]}, "no array named x"),
        (lambda a: a | {"x": a["x"].astype(np.int64)}, "x has dtype int64"),
        (lambda a: a | {"x": np.where(a["x"] > 2, np.nan, a["x"])}, "x holds NaN or inf"),
        (lambda a: a | {"x": a["x"][0]}, "x has shape (2, 300): it must be (N, C_in, L)"),
        (lambda a: a | {"dy": a["dy"][:, :, 1:]}, "dy has shape (2, 3, 297), the case needs"),
        (lambda a: a | {"b": np.zeros(4)}, "b has shape (4,), the case needs (3,)"),
    ],
)
def test_arrays_that_do_not_fit_are_refused_in_a_sentence(change, words):
    given = change(arrays(np.random.default_rng(2)))
    with pytest.raises(InvalidParameter, match=None) as raised:
        check(inputs=given, **SMALL)
    assert words in str(raised.value) and raised.value.param == "inputs"


def test_a_parameter_given_explicitly_must_agree_with_the_arrays():
    with pytest.raises(InvalidParameter, match="the arrays make in_channels=2, but in_channels=8"):
        check(inputs=arrays(np.random.default_rng(3)), in_channels=8, **SMALL)


def test_values_the_dtype_cannot_hold_are_refused():
    given = arrays(np.random.default_rng(4))
    given["x"][0, 0, 0] = 1e39
    with pytest.raises(InvalidParameter, match="x holds 1e\\+39, beyond float32's largest"):
        check(inputs=given, dtype="float32", **SMALL)


def test_on_the_command_line_a_bad_file_is_one_line_and_exit_2(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 5)))
    for path in (tmp_path / "x.npy", tmp_path / "missing.npz"):
        result = CliRunner().invoke(app, ["--inputs", str(path)])
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.output.startswith("Error: --inputs: ") and result.output.count("\n") == 1


def test_the_results_file_is_never_the_inputs_file(tmp_path):
    path = tmp_path / "batch.npz"
    np.savez(path, x=np.zeros((1, 2, 9)))
    result = CliRunner().invoke(app, ["--inputs", str(path), "--output", str(path)])
    assert result.exit_code == 2 and "is the run's own input" in result.output
    assert np.load(path)["x"].shape == (1, 2, 9)


def test_search_with_inputs_is_refused(tmp_path):
    np.savez(tmp_path / "batch.npz", x=np.zeros((1, 2, 9)))
    result = CliRunner().invoke(app, ["--search", "3", "--inputs", str(tmp_path / "batch.npz")])
    assert result.exit_code == 2 and "--search: it draws its own" in result.output


def test_shifted_inputs_a_correct_sequential_float32_layer_passes_at_a_million_terms():
    """x and dy ~ 100 + N(0, 1): dW and db sum 10⁶ terms that hardly vary, the running sum
    stalls (0.4% off): the worst case judges them, and the floor is said."""
    rng = np.random.default_rng(5)
    given = {
        "x": (100 + rng.standard_normal((1, 1, 10**6))).astype(np.float32),
        "dy": (100 + rng.standard_normal((1, 1, 10**6))).astype(np.float32),
    }
    result = check(impl=SEQUENTIAL, inputs=given, kernel_size=1, stride=1)
    assert result.status == "pass", result.message
    assert result.errors["dW"].rule == WORST_CASE
    floor = [n for n in result.notes if n.startswith("dW: ")]
    assert floor and "cannot tell an error below 0.06" in floor[0]


def test_shifted_inputs_a_one_percent_dw_error_fails_at_ten_thousand_terms(tmp_path):
    rng = np.random.default_rng(6)
    given = {
        "x": (100 + rng.standard_normal((1, 1, 10**4))).astype(np.float32),
        "dy": (100 + rng.standard_normal((1, 1, 10**4))).astype(np.float32),
    }
    impl = layer_with_dw_error(tmp_path, SEQUENTIAL, "1.01", 1.01)
    result = check(impl=impl, inputs=given, kernel_size=1, stride=1)
    assert result.status == "fail" and not result.errors["dW"].passed
    assert result.errors["dW"].rule == PROBABLE  # 10⁴ terms of this spread: the √n bound holds


@pytest.mark.parametrize("scale", [1e-100, 1e100])
def test_float64_values_near_the_ends_of_the_range_the_builtin_layer_passes(scale):
    given = arrays(np.random.default_rng(7), scale=scale)
    result = check(inputs=given, **SMALL)
    assert result.status == "pass", result.message
    assert result.errors["dW"].rule == PROBABLE  # the squares' norms neither under- nor overflow


@pytest.mark.parametrize("scale", [1e-100, 1e100])
def test_float64_values_near_the_ends_of_the_range_a_1e9_dw_error_fails(tmp_path, scale):
    impl = layer_with_dw_error(
        tmp_path, f"{LAYERS / 'correct_layer_plain.py'}:Conv1d", "1e9", 1 + 1e-9
    )
    given = arrays(np.random.default_rng(8), scale=scale)
    result = check(impl=impl, inputs=given, **SMALL)
    assert result.status == "fail" and not result.errors["dW"].passed
    assert all(result.errors[n].passed for n in ("y", "dX", "db"))


def test_float32_products_below_the_normal_range_pass_and_are_said():
    """x and dy near 1e-21: dW's products near 1e-42 are subnormal in float32 (without the
    allowance for it, 37 times over)."""
    given = arrays(np.random.default_rng(9), dtype=np.float32)
    given["x"], given["dy"] = given["x"] * np.float32(1e-21), given["dy"] * np.float32(1e-21)
    result = check(inputs=given, **SMALL)
    assert result.status == "pass", result.message
    assert any(n.startswith("dW: products below float32's normal range") for n in result.notes)


def test_float32_sums_beyond_its_range_are_an_error_with_the_reason_not_a_verdict():
    given = arrays(np.random.default_rng(10), dtype=np.float32)
    given["x"], given["dy"] = given["x"] * np.float32(1e20), given["dy"] * np.float32(1e20)
    result = check(inputs=given, **SMALL)
    assert result.status == "error" and not result.passed
    assert (
        "dW: its terms add up to" in result.message and "beyond float32's largest" in result.message
    )
