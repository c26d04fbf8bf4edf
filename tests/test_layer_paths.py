"""Each of the layer's computation paths, forced, against torch and the reference loops.

`choose_path` sends a shape to one path, so the ordinary layer tests reach a path only on
the shapes it is chosen for. Here every path runs on every drawn shape: forcing it replaces
`choose_path` for the duration of one layer call.
"""

import numpy as np
import pytest
from conftest import assert_float32_within_bound, forced, make_layer, run_layer
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import cases, min_length, specs

from conv1d_check.check import torch_side as torch_ref
from conv1d_check.nn import paths, reference
from conv1d_check.nn.spec import ConvSpec

PATHS = sorted(paths.PATHS)


@st.composite
def wide_cases(draw, max_batch: int = 2):
    """(spec, batch, length) with up to 12 channels per group: products of a realistic shape."""
    spec = draw(specs(max_per_group=12, max_kernel=6))
    length = draw(st.integers(min_length(spec), min_length(spec) + 20))
    return spec, draw(st.integers(0, max_batch)), length


def run_forced(path: str, spec: ConvSpec, x: np.ndarray, dtype=np.float64):
    layer = make_layer(spec, dtype=dtype)
    with forced(path):
        ours = run_layer(layer, x.astype(dtype))
    return layer, ours


def assert_matches_torch(path: str, case, seed: int) -> None:
    spec, batch, length = case
    x = np.random.default_rng(seed).standard_normal((batch, spec.in_channels, length))
    layer, ours = run_forced(path, spec, x)
    theirs = torch_ref.conv1d(spec, x, layer.W, layer.b, ours["dy"])
    for name, expected in theirs.items():
        assert ours[name].shape == expected.shape, name
        np.testing.assert_allclose(
            ours[name], expected, rtol=1e-12, atol=1e-12, err_msg=f"{path}: {name}"
        )


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=120, deadline=None)
@given(case=cases())
def test_each_path_matches_torch_in_float64(path, case):
    assert_matches_torch(path, case, seed=12)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=60, deadline=None)
@given(case=wide_cases())
def test_each_path_matches_torch_with_many_channels_per_group(path, case):
    assert_matches_torch(path, case, seed=13)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=60, deadline=None)
@given(case=cases(max_batch=2, extra_length=6))
def test_each_path_matches_the_reference_loops(path, case):
    spec, batch, length = case
    x = np.random.default_rng(14).standard_normal((batch, spec.in_channels, length))
    layer, ours = run_forced(path, spec, x)
    y = reference.forward(spec, x, layer.W, layer.b)
    db, dW, dX = reference.backward(spec, x, layer.W, ours["dy"])
    expected = {"y": y, "dX": dX, "dW": dW} | ({"db": db} if spec.bias else {})
    for name, value in expected.items():
        np.testing.assert_allclose(
            ours[name], value, rtol=1e-12, atol=1e-12, err_msg=f"{path}: {name}"
        )


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=60, deadline=None)
@given(case=cases())
def test_each_path_computes_float32_in_float32_within_the_rounding_bound(path, case):
    spec, batch, length = case
    x = np.random.default_rng(15).standard_normal((batch, spec.in_channels, length))
    with forced(path):
        assert_float32_within_bound(make_layer(spec, dtype=np.float32), x.astype(np.float32))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "circular"])
def test_each_path_returns_fresh_contiguous_outputs(path, padding_mode):
    """y and dX own their memory, C-contiguous: never views into a padded or phased buffer."""
    spec = ConvSpec(4, 6, 3, stride=2, padding=2, dilation=2, padding_mode=padding_mode)
    x = np.random.default_rng(16).standard_normal((3, 4, 17))
    _, ours = run_forced(path, spec, x)
    for name in ("y", "dX"):
        assert ours[name].flags.c_contiguous and ours[name].flags.owndata, (path, name)


@pytest.mark.parametrize("path", PATHS)
def test_each_path_agrees_with_the_others_on_a_larger_case(path):
    """A case past the size the hypothesis draws reach: long input, many channels, groups."""
    spec = ConvSpec(24, 36, 5, stride=3, padding=4, dilation=2, groups=3, padding_mode="reflect")
    x = np.random.default_rng(17).standard_normal((4, 24, 150))
    layer, ours = run_forced(path, spec, x)
    theirs = torch_ref.conv1d(spec, x, layer.W, layer.b, ours["dy"])
    for name, expected in theirs.items():
        np.testing.assert_allclose(
            ours[name], expected, rtol=1e-12, atol=1e-12, err_msg=f"{path}: {name}"
        )


@pytest.mark.parametrize("path", [paths.TAPS, paths.COLUMNS])
@pytest.mark.parametrize("block_bytes", [1, 2**9, 2**12])
@settings(max_examples=40, deadline=None)
@given(case=cases())
def test_each_blocked_path_matches_torch_whatever_the_blocks(path, block_bytes, case):
    """Blocks of one output, of part of a sample, of several samples: the same sums. (The
    drawn shapes fit one block of the default size, so the blocks are made small here.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "BLOCK_BYTES", block_bytes)
        assert_matches_torch(path, case, seed=18)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 4),
    l_out=st.integers(1, 30),
    gap=st.integers(0, 5),
    column_bytes=st.integers(1, 64),
    block_bytes=st.integers(1, 2**10),
)
def test_blocks_cover_every_output_once(n, l_out, gap, column_bytes, block_bytes):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "BLOCK_BYTES", block_bytes)
        blocks = list(paths._blocks(n, l_out, l_out + gap, column_bytes))
    covered = [(i, t) for n0, n1, t0, t1 in blocks for i in range(n0, n1) for t in range(t0, t1)]
    assert sorted(covered) == [(i, t) for i in range(n) for t in range(l_out)]
    assert all(n1 == n0 + 1 or (t0, t1) == (0, l_out) for n0, n1, t0, t1 in blocks)


@pytest.mark.parametrize(
    "spec, length, path",
    [
        pytest.param(ConvSpec(128, 128, 9, padding=4, groups=128), 1024, "banded", id="depthwise"),
        pytest.param(ConvSpec(8, 16, 3, groups=8), 100, "banded", id="depthwise-multiplier-2"),
        pytest.param(ConvSpec(256, 256, 3, padding=1), 1024, "taps", id="many-channels"),
        pytest.param(ConvSpec(128, 128, 5, padding=2, groups=4), 512, "taps", id="groups-4"),
        pytest.param(ConvSpec(3, 64, 7, stride=2, padding=3), 2048, "columns", id="3-channel-stem"),
        pytest.param(ConvSpec(64, 256, 3, padding=1), 512, "columns", id="fan-out-4"),
        pytest.param(ConvSpec(32, 64, 3, padding=1), 256, "columns", id="fan-out-2"),
        pytest.param(ConvSpec(32, 48, 3, padding=1), 512, "taps", id="fan-out-1.5"),
        pytest.param(ConvSpec(32, 48, 3, padding=1), 128, "columns", id="few-outputs"),
        pytest.param(ConvSpec(4, 4, 3, padding=1), 512, "taps", id="few-channels"),
        pytest.param(ConvSpec(64, 64, 9, dilation=4), 40, "columns", id="mostly-wasted-columns"),
    ],
)
def test_choose_path_sends_each_shape_to_its_path(spec, length, path):
    assert paths.choose_path(spec, 8, length) == path


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("block_bytes", [2**9, paths.BLOCK_BYTES])
@settings(max_examples=30, deadline=None)
@given(spec=specs(max_per_group=6, max_kernel=5), data=st.data())
def test_a_layer_reused_on_other_shapes_and_dtypes_matches_a_fresh_one(
    path, block_bytes, spec, data
):
    """A layer keeps its temporaries from call to call (`paths.Scratch`): calls on other
    batches, lengths and dtypes, in any order, give what a fresh layer gives."""
    reused = make_layer(spec)
    with pytest.MonkeyPatch.context() as patch, forced(path):
        patch.setattr(paths, "BLOCK_BYTES", block_bytes)
        for _ in range(3):
            batch = data.draw(st.integers(1, 4))
            length = data.draw(st.integers(min_length(spec), min_length(spec) + 12))
            dtype = data.draw(st.sampled_from([np.float64, np.float32]))
            x = np.random.default_rng(19).standard_normal((batch, spec.in_channels, length))
            ours = run_layer(reused, x.astype(dtype))
            fresh = run_layer(make_layer(spec, dtype=dtype), x.astype(dtype))
            for name, expected in fresh.items():
                np.testing.assert_array_equal(ours[name], expected, err_msg=f"{path}: {name}")
