"""The error metrics and the pass rule, against values worked out by hand and against torch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import cases

from conv1d_check.check.tolerance import Tolerance, compare, gamma, term_counts, unit_roundoff
from conv1d_check.nn import reference


def test_unit_roundoff_is_half_an_ulp_of_one():
    assert unit_roundoff(np.float64) == 2.0**-53
    assert unit_roundoff(np.float32) == 2.0**-24


def test_gamma_by_hand():
    assert gamma(3, 0.01) == pytest.approx(0.03 / 0.97)
    assert gamma(200, 0.01) == np.inf  # n·u >= 1: no bound


def test_compare_counts_and_locates_the_worst_element_relative_to_its_bound():
    expected = np.array([[1.0, 2.0], [0.0, 4.0]])
    actual = np.array([[1.1, 2.0], [0.05, 4.3]])
    allowed = np.array([[0.2, 0.1], [0.01, 0.2]])
    error = compare(actual, expected, allowed)
    # excesses: 0.1/0.2, 0, 0.05/0.01 = 5 (the worst), 0.3/0.2 = 1.5
    assert error.mismatched == 2 and error.total == 4
    assert error.worst_index == (1, 0) and error.allowed == 0.01
    assert error.worst_actual == 0.05 and error.worst_expected == 0.0
    assert error.max_abs == pytest.approx(0.3)
    assert error.max_rel == pytest.approx(0.1)  # 0.1/1 and 0.3/4; the zero is left out
    assert not error.passed


def test_nan_and_inf_are_mismatches():
    error = compare(np.array([np.nan, np.inf, 1.0]), np.ones(3), np.full(3, 1e9))
    assert error.mismatched == 2 and error.max_abs == np.inf


def test_nothing_allowed_means_exact():
    assert compare(np.zeros(2), np.zeros(2), np.zeros(2)).passed
    assert not compare(np.array([0.0, 1e-300]), np.zeros(2), np.zeros(2)).passed


def test_empty_tensors_pass():
    error = compare(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3)))
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
    tolerance = Tolerance(atol, rtol)
    ours = compare(actual, expected, tolerance.allowed(expected, None, 0, np.float64)).passed
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
