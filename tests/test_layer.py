"""The numpy Conv1D against torch.nn.Conv1d and against the reference loops."""

import numpy as np
import pytest
import torch
from conftest import assert_float32_within_bound, make_layer, run_layer
from hypothesis import given, settings
from strategies import cases

from conv1d_check import Conv1D
from conv1d_check.check import torch_side as torch_ref
from conv1d_check.nn import reference
from conv1d_check.nn.spec import ConvSpec


def torch_side(layer: Conv1D, x: np.ndarray, dy: np.ndarray) -> dict[str, np.ndarray]:
    return torch_ref.conv1d(layer.spec, x, layer.W, layer.b, dy)


# The per-path tests (test_layer_paths.py) run every path on hundreds of drawn shapes; these run
# the layer as users do, with the path it chooses, on a few dozen.
@settings(max_examples=30, deadline=None)
@given(cases())
def test_float64_matches_torch(case):
    spec, batch, length = case
    layer = make_layer(spec)
    x = np.random.default_rng(2).standard_normal((batch, spec.in_channels, length))
    ours = run_layer(layer, x)
    theirs = torch_side(layer, x, ours["dy"])
    for name, expected in theirs.items():
        assert ours[name].shape == expected.shape
        np.testing.assert_allclose(ours[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)


@settings(max_examples=30, deadline=None)
@given(cases())
def test_float32_within_the_rounding_bound(case):
    """Within (γ_n(u32) + γ_n(u64))·Σ|terms| of the float64 truth."""
    spec, batch, length = case
    layer = make_layer(spec, dtype=np.float32)
    x = np.random.default_rng(3).standard_normal((batch, spec.in_channels, length))
    assert_float32_within_bound(layer, x.astype(np.float32))


@settings(max_examples=30, deadline=None)
@given(cases(max_batch=2, extra_length=6))
def test_matches_the_reference_loops(case):
    spec, batch, length = case
    layer = make_layer(spec)
    x = np.random.default_rng(4).standard_normal((batch, spec.in_channels, length))
    ours = run_layer(layer, x)
    y = reference.forward(spec, x, layer.W, layer.b)
    db, dW, dX = reference.backward(spec, x, layer.W, ours["dy"])
    expected = {"y": y, "dX": dX, "dW": dW} | ({"db": db} if spec.bias else {})
    for name, value in expected.items():
        np.testing.assert_allclose(ours[name], value, rtol=1e-12, atol=1e-12, err_msg=name)


def test_notebook_case_reproduces_torch_to_1e_14():
    """The notebook's own steps: seed 10, Conv1D(8, 12, 3, 2), x = rand(3, 8, 20), delta = randn."""
    np.random.seed(10)
    layer = Conv1D(8, 12, 3, 2)
    x = np.random.rand(3, 8, 20)
    y = layer(x)
    delta = np.random.randn(*y.shape)
    db, dW, dX = layer.backward(delta)
    net = torch.nn.Conv1d(8, 12, 3, 2).double()
    net.weight = torch.nn.Parameter(torch.tensor(layer.W))
    net.bias = torch.nn.Parameter(torch.tensor(layer.b))
    xt = torch.tensor(x, requires_grad=True)
    yt = net(xt)
    yt.backward(torch.tensor(delta))
    pairs = [(y, yt.detach()), (dX, xt.grad), (dW, net.weight.grad), (db, net.bias.grad)]
    for ours, theirs in pairs:
        assert np.abs(ours - theirs.numpy()).max() < 1e-14


def test_default_init_follows_numpy_global_seed_like_the_notebook():
    np.random.seed(10)
    bound = 1 / np.sqrt(8 * 3)
    W = np.random.uniform(-bound, bound, (12, 8, 3))
    b = np.random.uniform(-bound, bound, 12)
    np.random.seed(10)
    layer = Conv1D(8, 12, 3, 2)
    np.testing.assert_array_equal(layer.W, W)
    np.testing.assert_array_equal(layer.b, b)


def test_init_is_uniform_within_torch_bound_per_group():
    layer = Conv1D(6, 9, 5, groups=3, rng=0)
    bound = 1 / np.sqrt(2 * 5)
    assert layer.W.shape == (9, 2, 5) and layer.b.shape == (9,)
    assert np.abs(layer.W).max() <= bound and np.abs(layer.b).max() <= bound
    assert np.abs(layer.W).max() > 0.8 * bound  # spread over the whole interval


def test_assigned_weights_are_used():
    layer = Conv1D(2, 1, 2, bias=True, rng=0)
    layer.W = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    layer.b = np.array([0.5])
    x = np.array([[[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]])
    # y[t] = 0.5 + x0[t] + 2·x0[t+1] + 3·x1[t] + 4·x1[t+1]
    np.testing.assert_array_equal(layer(x), [[[0.5 + 1 + 0 + 0 + 4, 0.5 + 0 + 4 + 3 + 4]]])


def test_gradients_are_kept_as_attributes_and_returned_in_notebook_order():
    layer = Conv1D(3, 4, 3, 2, rng=0)
    y = layer(np.ones((2, 3, 9)))
    db, dW, dX = layer.backward(np.ones_like(y))
    assert db is layer.db and dW is layer.dW and dX is layer.dX
    np.testing.assert_array_equal(db, np.full(4, 2 * 4))  # N · L_out ones per channel


def test_no_bias_gives_db_none():
    layer = Conv1D(3, 4, 3, bias=False, rng=0)
    y = layer(np.ones((1, 3, 5)))
    db, _, _ = layer.backward(np.ones_like(y))
    assert layer.b is None and db is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_and_gradients_keep_the_input_dtype(dtype):
    layer = Conv1D(2, 4, 3, groups=2, rng=0)
    y = layer(np.ones((2, 2, 6), dtype=dtype))
    grads = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and all(g.dtype == dtype for g in grads)


def test_unbatched_input_matches_a_batch_of_one():
    spec_kwargs = dict(stride=2, padding=1, padding_mode="reflect", rng=0)
    unbatched, batched = Conv1D(3, 5, 3, **spec_kwargs), Conv1D(3, 5, 3, **spec_kwargs)
    x = np.random.default_rng(0).standard_normal((3, 11))
    dy = np.random.default_rng(1).standard_normal((5, 6))
    y = unbatched(x)
    db, dW, dX = unbatched.backward(dy)
    np.testing.assert_array_equal(y, batched(x[None])[0])
    db1, dW1, dX1 = batched.backward(dy[None])
    np.testing.assert_array_equal(dX, dX1[0])
    np.testing.assert_array_equal(dW, dW1)
    np.testing.assert_array_equal(db, db1)


def test_empty_batch():
    layer = Conv1D(8, 12, 3, 2, rng=0)
    y = layer(np.zeros((0, 8, 20)))
    db, dW, dX = layer.backward(np.zeros(y.shape))
    assert y.shape == (0, 12, 9) and dX.shape == (0, 8, 20)
    np.testing.assert_array_equal(dW, 0)
    np.testing.assert_array_equal(db, 0)


@pytest.mark.parametrize(
    "kwargs, length",
    [
        pytest.param(dict(kernel_size=7, padding=1), 5, id="kernel-equals-padded-length"),
        pytest.param(dict(kernel_size=2, stride=9), 5, id="stride-longer-than-input"),
        pytest.param(dict(kernel_size=3, padding=8), 4, id="zero-padding-longer-than-input"),
        pytest.param(dict(kernel_size=1), 1, id="length-one"),
        pytest.param(dict(kernel_size=3, padding=1, padding_mode="replicate"), 1, id="replicate-1"),
        pytest.param(dict(kernel_size=3, padding=1, padding_mode="circular"), 1, id="circular-1"),
        pytest.param(dict(kernel_size=4, padding="same", dilation=3), 3, id="same-even-dilated"),
        pytest.param(dict(kernel_size=3, groups=4), 6, id="depthwise"),
    ],
)
def test_edge_cases_match_torch(kwargs, length):
    layer = Conv1D(4, 8, rng=0, **kwargs)
    x = np.random.default_rng(5).standard_normal((2, 4, length))
    ours = run_layer(layer, x)
    theirs = torch_side(layer, x, ours["dy"])
    for name, expected in theirs.items():
        np.testing.assert_allclose(ours[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)


# Cases modelled on torch's own Conv1d module tests (torch/testing/_internal/common_nn.py),
# named as there: constructor arguments, keyword arguments, input size.
TORCH_MODULE_TESTS = {
    "Conv1d": ((4, 5, 3), {}, (2, 4, 10)),
    "Conv1d_stride": ((4, 5, 3, 2), {}, (2, 4, 10)),
    "Conv1d_pad1": ((4, 5, 3, 1, 1), {}, (2, 4, 10)),
    "Conv1d_pad2": ((4, 5, 5, 1, 2), {}, (2, 4, 10)),
    "Conv1d_pad1size1": ((4, 4, 3, 1, 1), {}, (1, 4, 1)),
    "Conv1d_pad2size1": ((4, 4, 5, 1, 2), {}, (1, 4, 1)),
    "Conv1d_zero_batch": ((4, 5, 3), {}, (0, 4, 10)),
    "Conv1d_dilated": ((4, 5), {"kernel_size": 3, "dilation": 2}, (2, 4, 10)),
    "Conv1d_groups": ((4, 6), {"kernel_size": 3, "groups": 2}, (2, 4, 6)),
    "Conv1d_pad_valid": ((4, 5, 3), {"padding": "valid"}, (2, 4, 10)),
    "Conv1d_pad_same": ((4, 5, 3), {"padding": "same"}, (2, 4, 10)),
    "Conv1d_pad_same2": ((4, 5, 4), {"padding": "same"}, (2, 4, 10)),
    "Conv1d_pad_same_dilated": ((4, 5, 4), {"padding": "same", "dilation": 2}, (2, 4, 10)),
    "Conv1d_reflect_stride2_pad2": ((3, 3, 3, 2, 2), {"padding_mode": "reflect"}, (2, 3, 5)),
    "Conv1d_circular_stride2_pad2": ((2, 4, 3, 2, 2), {"padding_mode": "circular"}, (2, 2, 4)),
    "Conv1d_replicate_stride2_pad2": ((3, 3, 3, 2, 2), {"padding_mode": "replicate"}, (2, 3, 5)),
    "Conv1d_zeros_stride2_pad2": ((3, 3, 3, 2, 2), {"padding_mode": "zeros"}, (2, 3, 5)),
    "Conv1d_depthwise_multiplier": ((4, 8, 3), {"groups": 4, "bias": False}, (2, 4, 7)),
}


@pytest.mark.parametrize(
    ("args", "kwargs", "size"), TORCH_MODULE_TESTS.values(), ids=list(TORCH_MODULE_TESTS)
)
def test_torchs_own_conv1d_cases_in_both_dtypes(args, kwargs, size):
    x = np.random.default_rng(6).standard_normal(size)
    layer = Conv1D(*args, **kwargs, rng=0)
    ours = run_layer(layer, x)
    for name, expected in torch_side(layer, x, ours["dy"]).items():
        np.testing.assert_allclose(ours[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)
    layer32 = Conv1D(*args, **kwargs, dtype=np.float32, rng=0)
    assert_float32_within_bound(layer32, x.astype(np.float32))


VALID = dict(in_channels=8, out_channels=12, kernel_size=3)


@pytest.mark.parametrize(
    "kwargs, param, words",
    [
        (dict(groups=3), "groups", "must divide in_channels=8"),
        (dict(out_channels=10, groups=4), "groups", "must divide out_channels=10"),
        (dict(groups=0), "groups", "positive"),
        (dict(in_channels=0), "in_channels", "positive"),
        (dict(out_channels=0), "out_channels", "positive"),
        (dict(kernel_size=0), "kernel_size", "positive"),
        (dict(kernel_size=-2), "kernel_size", "positive"),
        (dict(stride=0), "stride", "positive"),
        (dict(dilation=0), "dilation", "positive"),
        (dict(padding=-1), "padding", "non-negative"),
        (dict(padding="full"), "padding", "one of valid, same"),
        (dict(padding_mode="mirror"), "padding_mode", "one of zeros, reflect"),
        (dict(padding="same", stride=2), "padding", "stride 1"),
        (dict(kernel_size=2.5), "kernel_size", "integer"),
        (dict(stride=True), "stride", "integer"),
        (dict(padding=(1, 2)), "padding", "integer"),
        (dict(bias="yes"), "bias", "true or false"),
    ],
)
def test_construction_refuses_what_torch_refuses(kwargs, param, words):
    with pytest.raises(ValueError, match=words) as info:
        Conv1D(**(VALID | kwargs))
    assert info.value.param == param
    assert str(info.value).startswith(param)


@pytest.mark.parametrize(
    "kwargs, shape, param, words",
    [
        (dict(kernel_size=6), (2, 8, 5), "kernel_size", "spans 6 samples"),
        (
            dict(kernel_size=3, dilation=3),
            (2, 8, 6),
            "kernel_size",
            r"spans 7 samples \(dilation 3\)",
        ),
        (dict(padding=5, padding_mode="reflect"), (2, 8, 5), "padding", "smaller than the input"),
        (dict(padding=6, padding_mode="circular"), (2, 8, 5), "padding", "wrap around"),
        (dict(), (2, 7, 5), "x", "7 channels"),
        (dict(), (2, 1, 8, 5), "x", r"expected \(N, C_in, L\)"),
        (dict(), (8,), "x", r"expected \(N, C_in, L\)"),
        (dict(), (2, 8, 0), "length", "positive"),
    ],
)
def test_forward_refuses_what_torch_refuses(kwargs, shape, param, words):
    layer = Conv1D(**(VALID | kwargs))
    with pytest.raises(ValueError, match=words) as info:
        layer(np.zeros(shape))
    assert info.value.param == param
    with pytest.raises(RuntimeError):  # torch agrees that the input is invalid
        torch.nn.Conv1d(**(VALID | kwargs)).double()(torch.zeros(shape, dtype=torch.float64))


def test_backward_refuses_a_delta_of_the_wrong_shape():
    layer = Conv1D(**VALID)
    layer(np.zeros((2, 8, 10)))
    with pytest.raises(ValueError, match=r"delta has shape \(2, 12, 7\).*\(2, 12, 8\)"):
        layer.backward(np.zeros((2, 12, 7)))


def test_backward_before_forward_is_refused():
    with pytest.raises(ValueError, match="call forward first"):
        Conv1D(**VALID).backward(np.zeros((2, 12, 8)))


def test_an_assigned_weight_of_the_wrong_shape_is_refused():
    layer = Conv1D(**VALID)
    layer.W = np.zeros((12, 8, 2))
    with pytest.raises(ValueError, match=r"W has shape \(12, 8, 2\): expected \(12, 8, 3\)"):
        layer(np.zeros((1, 8, 10)))


def test_tuple_arguments_are_taken_as_torch_takes_them():
    layer = Conv1D(4, 4, (3,), stride=(2,), padding=(1,), dilation=(1,), rng=0)
    assert (layer.spec.kernel_size, layer.spec.stride, layer.spec.padding) == (3, 2, 1)


def test_a_padding_mode_of_the_wrong_type_is_a_type_error_as_in_a_case():
    with pytest.raises(TypeError, match="padding_mode=3: must be text"):
        ConvSpec(1, 1, 1, padding_mode=3)
