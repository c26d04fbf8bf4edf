"""The norm-wise pass rule (--rule normwise): a transform-based layer passes, its bugs fail, and
under the element-wise rule its rounding is named for what it is."""

from pathlib import Path

import numpy as np
import pytest

from conv1d_check import InvalidParameter, check
from conv1d_check.check.normwise import (
    NORMWISE,
    NORMWISE_CONFIDENCE,
    judge,
    norm,
    normwise_bound,
    transform_levels,
)
from conv1d_check.check.tolerance import U64, Allowance, Sums
from conv1d_check.nn.spec import ConvSpec

LAYERS = Path(__file__).parent / "layers"
FFT = f"{LAYERS / 'correct_fft.py'}:Conv1d"
FFT_DW_BUG = f"{LAYERS / 'broken_fft_dw_one_percent.py'}:Conv1d"
# dW and db sum N·L_out terms: 10⁶ here, at one channel and one tap
MILLION = dict(batch=1, in_channels=1, out_channels=1, kernel_size=1, stride=1, length=10**6)


def test_the_norm_neither_underflows_nor_overflows():
    assert norm(np.array([3.0, 4.0])) == 5.0
    assert norm(np.array([3e-200, -4e-200])) == pytest.approx(5e-200, rel=1e-15)
    assert norm(np.array([3e200, 4e200])) == pytest.approx(5e200, rel=1e-15)
    assert norm(np.zeros(3)) == 0.0 and norm(np.array([1.0, np.nan])) == np.inf


def test_the_transform_length_holds_the_padded_input_twice():
    assert transform_levels(ConvSpec(1, 1, 3), 20) == 6  # 2·20 = 40 -> 64 = 2⁶
    assert transform_levels(ConvSpec(1, 1, 3, padding=6), 20) == 6  # 2·32 = 64
    assert transform_levels(ConvSpec(1, 1, 3, padding=7), 20) == 7


def test_the_bound_by_hand():
    """Two elements with Σ|t| = 3 and 4 (norm 5), float32, log₂(m) = 10: λ·10·u·5, plus the
    norm of float64's own element-wise bounds."""
    sums = Sums(np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([2.0, 3.0]), 2)
    oracle = np.array([2 * U64 / (1 - 2 * U64) * 3, 2 * U64 / (1 - 2 * U64) * 4])
    expected = NORMWISE_CONFIDENCE * 10 * 2.0**-24 * 5 + np.hypot(*oracle)
    assert normwise_bound(sums, "float32", 10) == pytest.approx(expected, rel=1e-12)


def test_a_tensor_within_the_norm_passes_though_elements_exceed_their_own_bounds():
    expected = np.zeros(4)
    allowance = Allowance(np.zeros(4), np.zeros(4))  # nothing allowed element by element
    actual = np.array([3.0, 4.0, 0.0, 0.0])  # ‖error‖₂ = 5
    passed = judge(actual, expected, allowance, bound=5.0)
    assert passed.passed and passed.rule == NORMWISE and passed.share == 1.0
    failed = judge(actual, expected, allowance, bound=4.9)
    assert not failed.passed and failed.mismatched == 2 and failed.share == pytest.approx(5 / 4.9)
    assert not judge(actual, expected, allowance).passed  # no bound: the element-wise rule
    assert not judge(np.array([np.nan, 0, 0, 0]), expected, allowance, bound=1e300).passed


@pytest.mark.parametrize(
    "dtype, params",
    [
        ("float32", {}),  # the notebook's case: x[19] receives no terms
        ("float64", dict(in_channels=33, out_channels=4, stride=1, padding=2)),  # y: 100 terms
        ("float32", dict(batch=2, in_channels=2, out_channels=3, length=5000, stride=1)),  # 10⁴
        ("float32", MILLION),
        ("float64", MILLION),
    ],
)
def test_an_fft_layer_passes_under_the_normwise_rule(dtype, params):
    result = check(impl=FFT, dtype=dtype, rule="normwise", **params)
    assert result.status == "pass", result.message


def test_under_the_elementwise_rule_an_fft_layer_is_named_transform_rounding_not_a_bug():
    result = check(impl=FFT, dtype="float32")
    assert result.status == "fail" and "dX" in result.message
    found = [line for line in result.diagnosis if line.startswith("dX: ")]
    assert found and "transform rounding, not a bug" in found[0]
    assert "--rule normwise" in found[0] and "edges" not in found[0]


def test_a_one_percent_dw_bug_in_an_fft_layer_fails_under_the_normwise_rule():
    result = check(impl=FFT_DW_BUG, dtype="float32", rule="normwise", **MILLION)
    assert result.status == "fail"
    assert not result.errors["dW"].passed and result.errors["dW"].rule == NORMWISE
    assert all(result.errors[name].passed for name in ("y", "dX", "db"))
    assert not any("transform rounding" in line for line in result.diagnosis)


def test_normwise_with_atol_is_refused():
    with pytest.raises(InvalidParameter, match="one pass rule at a time"):
        check(rule="normwise", atol=1e-6, rtol=1e-6)
    with pytest.raises(InvalidParameter, match="rule='columnwise': must be one of"):
        check(rule="columnwise")
