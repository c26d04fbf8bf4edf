"""A verdict to trust at every size: long float32 sums of a correct layer pass, wrong ones fail
whatever the length, NaN never passes, and a run that checked nothing is no pass."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conv1d_check import Case, assert_matches_torch, check
from conv1d_check.check import verify
from conv1d_check.cli import app
from conv1d_check.usercode.builtin import run_builtin

LAYERS = Path(__file__).parent / "layers"
SEQUENTIAL = f"{LAYERS / 'correct_sequential_float32.py'}:Conv1d"
runner = CliRunner()


def damaged(name, damage):
    """A run_layer giving the built-in layer's results with `name` changed by `damage`."""

    def run(case, tensors):
        run = run_builtin(case.spec, tensors)
        run.tensors[name] = damage(run.tensors[name]).astype(run.tensors[name].dtype)
        return run

    return run


# The table: grossly wrong float32 gradients that the worst-case bound let through.
# What lets them through is the terms per element, n: γ_n·Σ|t| is 3% of Σ|t| at dW's
# n = 16 · 32766 (the batch times the output positions), against |s| ≈ 0.2% of it. The
# channels do not change n: the table's 16 in and out are 1 here (16 times fewer elements).
WRONG_AT_LENGTH = [
    ({"batch": 16, "in_channels": 1, "out_channels": 1, "length": 32768}, "dW", np.negative),
    ({"batch": 16, "in_channels": 4, "out_channels": 4, "length": 25000}, "db", lambda a: -7 * a),
    (
        {"batch": 1, "in_channels": 1, "out_channels": 1, "kernel_size": 1, "length": 17_000_000},
        "dW",
        lambda a: np.full_like(a, np.nan),
    ),
]


@pytest.mark.parametrize(("params", "name", "damage"), WRONG_AT_LENGTH)
def test_wrong_float32_gradients_of_long_sums_fail(monkeypatch, params, name, damage):
    monkeypatch.setattr(verify, "run_layer", damaged(name, damage))
    result = check(**({"kernel_size": 3, "stride": 1, "dtype": "float32"} | params))
    assert result.status == "fail"
    assert not result.errors[name].passed and np.isfinite(result.errors[name].allowed)
    assert all(e.passed for n, e in result.errors.items() if n != name)


def test_nan_fails_even_under_a_huge_tolerance(monkeypatch):
    monkeypatch.setattr(verify, "run_layer", damaged("y", lambda a: np.where(a > 0, np.nan, a)))
    result = check(atol=1e300, rtol=0.0)
    assert result.status == "fail" and not result.errors["y"].passed


def test_an_infinite_tolerance_is_refused():
    with pytest.raises(ValueError, match="atol=inf: must be a finite number"):
        check(atol=float("inf"), rtol=0.0)


LONG = {"batch": 16, "in_channels": 4, "out_channels": 4, "kernel_size": 3, "stride": 1}


def test_a_float32_layer_summing_one_term_at_a_time_passes_long_sums():
    """400,000 terms in each element of dW and db, accumulated sequentially in float32."""
    result = check(impl=SEQUENTIAL, dtype="float32", length=25000, **LONG)
    assert result.status == "pass", result.message
    assert max(e.share for e in result.errors.values()) < 0.5


@pytest.mark.parametrize(("length", "off"), [(25000, 1e-2), (200, 1e-3)])
def test_a_float32_layer_off_by_a_little_fails_at_any_length(tmp_path, length, off):
    """(1 + ε) times the truth in dW: 1% at 400,000 terms, 0.1% at 3,200."""
    path = tmp_path / "off.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_sequential_float32 import Conv1d as Correct\n\n"
        "class Conv1d(Correct):\n"
        "    def backward(self, dy):\n"
        "        dx = super().backward(dy)\n"
        f"        self.dW = self.dW * (1 + {off})\n"
        "        return dx\n"
    )
    result = check(impl=f"{path}:Conv1d", dtype="float32", length=length, **LONG)
    assert result.status == "fail" and not result.errors["dW"].passed
    assert result.diagnosis[0].startswith(f"dW: a constant {1 + off:.6g} times the truth")


def test_hundreds_of_small_float32_cases_of_a_sequential_layer_pass(tmp_path):
    path = tmp_path / "seeds.toml"
    path.write_text(
        '[defaults]\ndtype = "float32"\nbatch = 2\nlength = 11\n'
        "[[grid]]\nin = [1, 3]\nout = [2, 5]\nkernel_size = [1, 2, 4]\nstride = [1, 3]\n"
        f"seed = {list(range(9))}\n"
    )
    result = runner.invoke(app, ["--config", str(path), "--impl", SEQUENTIAL, "--json"])
    cases = json.loads(result.stdout)["cases"]
    assert len(cases) == 216
    assert result.exit_code == 0, [c["message"] for c in cases if c["status"] != "pass"][:3]


def test_every_case_skipped_is_nothing_checked_exit_5(tmp_path):
    path = tmp_path / "skips.toml"
    path.write_text('[[grid]]\nkernel_size = [3]\npadding = ["same"]\nstride = [2, 3]\n')
    result = runner.invoke(app, ["--config", str(path)], env={"NO_COLOR": "1"})
    assert result.exit_code == 5
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("NOTHING CHECKED: 2 case(s), 2 skip")
    assert "2 case(s) skipped:" in result.stdout  # with their reasons, unasked
    assert "padding='same' needs stride 1" in result.stdout
    allowed = runner.invoke(app, ["--config", str(path), "--allow-empty"])
    assert allowed.exit_code == 0


def test_a_layer_that_cannot_take_the_case_names_the_option_and_checks_nothing():
    result = runner.invoke(
        app, ["--impl", f"{LAYERS / 'correct_notebook_seed.py'}:Conv1D", "--padding", "1"]
    )
    assert result.exit_code == 5
    assert "takes no padding=1 (run with --padding 0)" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("NOTHING CHECKED")


def test_an_empty_shard_is_nothing_checked(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text("[[grid]]\nkernel_size = [1, 3]\n")
    result = runner.invoke(app, ["--config", str(path), "--shard", "3/3", "--json"])
    assert result.exit_code == 5
    document = json.loads(result.stdout)
    assert document["verdict"] == "NOTHING CHECKED" and document["passed"] is False


def test_a_skipped_case_is_not_passed_in_the_python_api():
    result = check(impl=f"{LAYERS / 'correct_notebook_seed.py'}:Conv1D", padding=1)
    assert result.status == "skip" and not result.passed


def test_assert_matches_torch_skips_under_pytest_with_the_reason():
    with pytest.raises(pytest.skip.Exception, match="takes no padding=1"):
        assert_matches_torch(Case(impl=f"{LAYERS / 'correct_notebook_seed.py'}:Conv1D", padding=1))
