"""The error metrics and the pass rule, against values worked out by hand, against torch, and
against sums accumulated as correct layers accumulate them."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import cases

from conv1d_check.check import tolerance
from conv1d_check.check.tolerance import (
    CONFIDENCE,
    EXPLICIT,
    PROBABLE,
    U64,
    WORST_CASE,
    Allowance,
    Sums,
    Tolerance,
    compare,
    gamma,
    term_counts,
    underflow,
    unit_roundoff,
    varied,
)
from conv1d_check.nn import reference

U32 = 2.0**-24


def allowance(allowed, worst=None):
    allowed = np.asarray(allowed, dtype=float)
    return Allowance(allowed, None if worst is None else np.asarray(worst, dtype=float))


def test_unit_roundoff_is_half_an_ulp_of_one():
    assert unit_roundoff(np.float64) == 2.0**-53
    assert unit_roundoff(np.float32) == U32


def test_gamma_by_hand():
    assert gamma(3, 0.01) == pytest.approx(0.03 / 0.97)
    assert gamma(200, 0.01) == np.inf  # n·u >= 1: no bound


def test_the_allowance_is_the_smaller_bound_plus_the_oracles_own():
    """Two elements of 100 terms: Σ|t| = 80 and 20, ‖t‖₂ = 10 and 10, s = 3 and 15."""
    sums = Sums(np.array([3.0, 15.0]), np.array([80.0, 20.0]), np.array([10.0, 10.0]), 100)
    got = Tolerance().allowance(sums, "float32")

    def bound(u, s, abs_sum, rss):
        worst = 100 * u / (1 - 100 * u) * abs_sum
        return min(worst, CONFIDENCE * 10 * u * max(s, rss)), worst

    for i, (s, a, r) in enumerate([(3.0, 80.0, 10.0), (15.0, 20.0, 10.0)]):
        (ours, worst), (oracle, oracle_worst) = bound(U32, s, a, r), bound(U64, s, a, r)
        assert got.allowed[i] == pytest.approx(ours + oracle, rel=1e-12)
        assert got.worst_case[i] == pytest.approx(worst + oracle_worst, rel=1e-12)
    # 12·10·u·10 = 1200u beats γ·80 ≈ 8000u; for the second, 12·10·u·15 = 1800u beats 2000u
    assert got.rule_at((0,)) == got.rule_at((1,)) == PROBABLE


def test_few_terms_are_judged_by_the_worst_case_bound():
    sums = Sums(np.array([1.0]), np.array([1.5]), np.array([1.2]), 3)
    got = Tolerance().allowance(sums, "float64")
    assert got.rule_at((0,)) == WORST_CASE
    assert got.allowed[0] == pytest.approx(2 * gamma(3, U64) * 1.5)


def test_a_sum_too_long_for_the_worst_case_still_has_a_finite_bound():
    n = 2**25  # n·u >= 1 in float32: γ_n is infinite
    sums = Sums(np.array([0.0]), np.array([1e7]), np.array([5e3]), n)
    got = Tolerance().allowance(sums, "float32")
    assert np.isinf(got.worst_case[0]) and np.isfinite(got.allowed[0])
    assert got.allowed[0] == pytest.approx(CONFIDENCE * math.sqrt(n) * 5e3 * (U32 + U64))


def test_compare_counts_and_locates_the_worst_element_relative_to_its_bound():
    expected = np.array([[1.0, 2.0], [0.0, 4.0]])
    actual = np.array([[1.1, 2.0], [0.05, 4.3]])
    error = compare(actual, expected, allowance([[0.2, 0.1], [0.01, 0.2]]))
    # excesses: 0.1/0.2, 0, 0.05/0.01 = 5 (the worst), 0.3/0.2 = 1.5
    assert error.mismatched == 2 and error.total == 4
    assert error.worst_index == (1, 0) and error.allowed == 0.01
    assert error.share == pytest.approx(5)
    assert error.worst_actual == 0.05 and error.worst_expected == 0.0
    assert error.max_abs == pytest.approx(0.3)
    assert error.max_rel == pytest.approx(0.1)  # 0.1/1 and 0.3/4; the zero is left out
    assert error.rule == EXPLICIT
    assert not error.passed


def test_errors_beyond_the_worst_case_are_counted_as_unexplained():
    expected = np.zeros(4)
    actual = np.array([0.5, 2.0, 3.0, np.nan])
    error = compare(actual, expected, allowance([0.1] * 4, worst=[1.0, 1.0, 5.0, np.inf]))
    assert error.mismatched == 4 and error.unexplained == 2  # 2.0 beyond 1.0, and the NaN


@pytest.mark.parametrize("rule", ["rounding", "assert_close"])
def test_nan_and_inf_fail_under_every_rule(rule):
    actual = np.array([np.nan, np.inf, -np.inf, 1.0])
    if rule == "rounding":
        bounds = allowance(np.full(4, 1e300), worst=np.full(4, np.inf))
    else:  # --atol 1e300 --rtol 0
        bounds = Tolerance(1e300, 0.0).allowance(Sums(np.ones(4), None, None, 1), "float64")
    error = compare(actual, np.ones(4), bounds)
    assert error.mismatched == 3 and error.max_abs == np.inf and not error.passed


def test_an_infinite_or_nan_allowance_allows_nothing():
    error = compare(np.array([5.0, 5.0]), np.zeros(2), allowance([np.inf, np.nan]))
    assert error.mismatched == 2


def test_nothing_allowed_means_exact():
    assert compare(np.zeros(2), np.zeros(2), allowance(np.zeros(2))).passed
    assert not compare(np.array([0.0, 1e-300]), np.zeros(2), allowance(np.zeros(2))).passed


def test_empty_tensors_pass():
    error = compare(np.zeros((0, 3)), np.zeros((0, 3)), allowance(np.zeros((0, 3))))
    assert error.passed and error.total == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-10, 10), min_size=1, max_size=8),
    st.lists(st.floats(-1, 1), min_size=8, max_size=8),
    st.sampled_from([0.0, 1e-3, 0.1]),
    st.sampled_from([0.0, 1e-3, 0.1]),
)
def test_explicit_tolerance_decides_like_assert_close(values, noise, atol, rtol):
    expected = np.array(values)
    actual = expected + np.array(noise[: len(values)]) * 0.05
    bounds = Tolerance(atol, rtol).allowance(Sums(expected, None, None, 1), "float64")
    ours = compare(actual, expected, bounds).passed
    try:
        torch.testing.assert_close(
            torch.tensor(actual), torch.tensor(expected), atol=atol, rtol=rtol
        )
        theirs = True
    except AssertionError:
        theirs = False
    assert ours == theirs


def test_atol_and_rtol_go_together():
    with pytest.raises(ValueError, match="both or neither"):
        Tolerance(atol=1e-3)


def random_sums(rows, n, dtype, seed=0):
    """`rows` sums of n products of N(0, 1) numbers in `dtype`: the terms as a layer computes
    them (rounded products), and the exact Sums of those same inputs."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, n)).astype(dtype)
    b = rng.standard_normal((rows, n)).astype(dtype)
    exact = a.astype(np.float64) * b.astype(np.float64)
    sums = Sums(exact.sum(1), np.abs(exact).sum(1), np.sqrt((exact * exact).sum(1)), n)
    return a * b, sums


ORDERS = {
    "natural": lambda t: np.cumsum(t, axis=1, dtype=t.dtype)[:, -1],  # one term at a time
    "reversed": lambda t: np.cumsum(t[:, ::-1], axis=1, dtype=t.dtype)[:, -1],
    "pairwise": lambda t: t.sum(axis=1, dtype=t.dtype),
}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("rows", "n"), [(4000, 100), (400, 10_000), (4, 1_000_000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correct_sums_in_any_usual_order_pass_with_room_to_spare(order, rows, n, dtype):
    terms, sums = random_sums(rows, n, dtype)
    error = compare(ORDERS[order](terms), sums.value, Tolerance().allowance(sums, dtype))
    assert error.passed and error.share < 0.5, error


@pytest.mark.parametrize(("n", "off"), [(1_000_000, 1e-2), (10_000, 1e-3), (100, 1e-3)])
def test_float32_elements_off_by_a_share_of_their_scale_fail(n, off):
    """The issue's detection floor: 1% of an element's scale at any size, 0.1% up to 10⁴."""
    _, sums = random_sums(8, n, np.float32, seed=1)
    scale = np.maximum(np.abs(sums.value), sums.root_sum_squares)
    wrong = sums.value + off * scale
    error = compare(wrong, sums.value, Tolerance().allowance(sums, np.float32))
    assert error.mismatched == 8


def test_float64_elements_off_by_1e9_relative_fail_at_ten_million_terms():
    n = 10_000_000
    sums = Sums(np.array([1e3]), np.array([8e6]), np.array([3.2e3]), n)
    error = compare(sums.value * (1 + 1e-9), sums.value, Tolerance().allowance(sums, np.float64))
    assert not error.passed


def counted_terms(spec, batch, length):
    """The largest number of products summed into one element, counted by the reference loops."""
    ones = np.ones((batch, spec.in_channels, length))
    W, dy = (
        np.ones(spec.weight_shape),
        np.ones((batch, spec.out_channels, spec.output_length(length))),
    )
    y = reference.forward(spec, ones, W, np.ones(spec.out_channels) if spec.bias else None)
    _, dW, dX = reference.backward(spec, ones, W, dy)
    return {"y": y.max(initial=0), "dX": dX.max(initial=0), "dW": dW.max(initial=0)}


@settings(max_examples=150, deadline=None)
@given(cases(max_batch=2, extra_length=5))
def test_term_counts_bound_the_terms_actually_summed(case):
    spec, batch, length = case
    counts = term_counts(spec, batch, length)
    for name, counted in counted_terms(spec, batch, length).items():
        assert counts[name] >= counted, name
    # without padding copies the y and dW counts are exact
    assert counts["y"] == spec.in_per_group * spec.kernel_size + spec.bias
    assert counts["db"] == batch * spec.output_length(length)


def test_terms_that_do_not_vary_are_judged_by_the_worst_case_alone():
    """100 equal terms of 1 (s = 100, ‖t‖₂ = 10): no spread, the running sum rounds the same way
    each time, so the √n·u bound is set aside; 100 terms ±1 cancelling to 0 keep it."""
    constant = Sums(np.array([100.0]), np.array([100.0]), np.array([10.0]), 100)
    cancelling = Sums(np.array([0.0]), np.array([100.0]), np.array([10.0]), 100)
    assert not varied(constant, U32)[0] and varied(cancelling, U32)[0]
    got = Tolerance().allowance(constant, "float32")
    assert got.allowed[0] == pytest.approx((gamma(100, U32) + gamma(100, U64)) * 100)
    assert got.rule_at((0,)) == WORST_CASE
    assert Tolerance().allowance(cancelling, "float32").rule_at((0,)) == PROBABLE


def test_products_below_the_normal_range_add_their_absolute_error_where_terms_are_summed():
    sums = Sums(np.array([1e-40, 0.0]), np.array([1e-40, 0.0]), np.array([1e-40, 0.0]), 10)
    eta = float(np.finfo(np.float32).smallest_normal) * U32  # 2⁻¹⁵⁰
    assert eta == 2.0**-150
    assert underflow(sums, "float32")[0] == 10 * eta and underflow(sums, "float32")[1] == 0
    assert Tolerance().allowance(sums, "float32").allowed[1] == 0  # no terms: exactly 0


def test_past_n_u_of_one_an_element_summing_only_zeros_is_allowed_nothing_and_explained():
    """γ_n is infinite at n·u ≥ 1 (2²⁴ terms in float32), yet a sum of zeros is exact in any
    order: no inf·0 (a warning, an error in this suite) and an exact 0 is no unexplained one."""
    sums = Sums(np.array([0.0, 1.0]), np.array([0.0, 2.0]), np.array([0.0, 1.0]), 2**25)
    got = Tolerance().allowance(sums, "float32")
    assert got.worst_case[0] == 0 and got.worst_case[1] == np.inf
    error = compare(np.array([0.0, 1.0]), sums.value, got)
    assert error.passed and error.unexplained == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("terms", [3, 10**6, 2**25])
def test_the_allowance_by_blocks_is_the_whole_tensors_element_for_element(
    monkeypatch, dtype, terms
):
    """Blocks of 7 elements over a (3, 5, 11) tensor, read through a transposed view, with
    zeros, constant terms (no spread) and cancelling ones among its elements."""
    rng = np.random.default_rng(5)
    value = rng.standard_normal((3, 11, 5)).transpose(0, 2, 1)
    abs_sum = np.abs(value) + rng.exponential(size=value.shape)
    root_sum_squares = np.abs(rng.standard_normal(value.shape))
    value[0, 0], abs_sum[0, 0], root_sum_squares[0, 0] = 0.0, 0.0, 0.0  # nothing summed
    value[1, 1], abs_sum[1, 1], root_sum_squares[1, 1] = 100.0, 100.0, 10.0  # no spread
    sums = Sums(value, abs_sum, root_sum_squares, terms)
    whole = Tolerance().allowance(sums, dtype)
    monkeypatch.setattr(tolerance, "BLOCK", 7)
    blocks = Tolerance().allowance(sums, dtype)
    for field in ("allowed", "worst_case", "stalled"):
        np.testing.assert_array_equal(getattr(blocks, field), getattr(whole, field), field)


def test_compare_by_blocks_finds_what_the_whole_tensor_gives(monkeypatch):
    """Blocks of 3 over 11 elements: the counts add up, and the worst element is the first of
    two equal ones (as argmax over the whole), whichever block holds it."""
    expected = np.array([1.0, 2.0, 0.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    actual = expected + np.array([0, 0.5, 0, 0, 3.0, 0, 0, 3.0, np.nan, 0, 0.1])
    allowed = np.full(11, 1.0)
    allowed[8] = np.inf  # allows nothing: NaN there mismatches under every rule anyway
    allowance = Allowance(allowed, np.full(11, 2.0))
    whole = compare(actual, expected, allowance)
    monkeypatch.setattr(tolerance, "BLOCK", 3)
    blocks = compare(actual, expected, allowance)
    np.testing.assert_equal(dataclasses.astuple(blocks), dataclasses.astuple(whole))  # NaN too
    assert (whole.mismatched, whole.unexplained) == (3, 3)  # 3.0, 3.0 and NaN
    assert whole.worst_index == (8,) and whole.share == np.inf and whole.allowed == 0.0
    actual[8] = expected[8]  # now 3.0 at 4 and 7 share the worst: the first is named
    assert compare(actual, expected, allowance).worst_index == (4,)
    monkeypatch.setattr(tolerance, "BLOCK", 1 << 16)
    assert compare(actual, expected, allowance).worst_index == (4,)
