"""The layer's samples shared among threads (`nn/sharing.py`), each path forced.

The test processes run BLAS on one thread (conftest), where no call is shared: here the
threads BLAS may use are raised, or `blas_threads` answers for them, and the threshold of work
is dropped, so that the drawn shapes share.
"""

import multiprocessing
import sys
import threading
import warnings

import numpy as np
import pytest
from conftest import forced, make_layer, run_layer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import cases
from threadpoolctl import threadpool_limits

from conv1d_check.check import torch_side
from conv1d_check.nn import paths, sharing
from conv1d_check.nn.spec import ConvSpec

PATHS = sorted(paths.PATHS)
WIDE = ConvSpec(16, 24, 5, padding=2)  # "taps"/"columns" work: 6 · C_out · C_in · K per output


@pytest.fixture
def threads(monkeypatch):
    """Set how many threads BLAS may use as `sharing` sees it; every call pays for them."""
    monkeypatch.setattr(sharing, "SHARE_MIN_FLOP", 0)

    def set_to(count: int) -> None:
        monkeypatch.setattr(sharing, "blas_threads", lambda: count)

    return set_to


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("count", [2, 3])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=cases(max_batch=5))
def test_a_shared_call_matches_torch_and_the_unshared_call(threads, path, count, case):
    spec, batch, length = case
    x = np.random.default_rng(20).standard_normal((batch, spec.in_channels, length))
    with forced(path):
        threads(1)
        alone = run_layer(make_layer(spec), x)
        threads(count)
        shared = run_layer(make_layer(spec), x)
    theirs = torch_side.conv1d(spec, x, make_layer(spec).W, make_layer(spec).b, shared["dy"])
    for name, expected in theirs.items():
        assert shared[name].shape == expected.shape, name
        np.testing.assert_allclose(shared[name], expected, rtol=1e-12, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(shared[name], alone[name], rtol=1e-12, atol=1e-12)
    for name in ("y", "dX"):
        assert shared[name].flags.c_contiguous and shared[name].flags.owndata, name


@pytest.mark.parametrize("path", PATHS)
def test_each_share_writes_only_its_own_samples(threads, path):
    """Seven samples on three threads (3, 2, 2): each sample's y and dX is its own."""
    threads(3)
    x = np.random.default_rng(21).standard_normal((7, WIDE.in_channels, 40))
    with forced(path):
        shared = run_layer(make_layer(WIDE), x)
        threads(1)
        for n in range(7):
            one = make_layer(WIDE)
            y = one(x[n : n + 1])
            _, _, dX = one.backward(shared["dy"][n : n + 1])
            np.testing.assert_allclose(shared["y"][n : n + 1], y, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(shared["dX"][n : n + 1], dX, rtol=1e-12, atol=1e-12)


def test_a_layer_sharing_float32_computes_in_float32(threads):
    threads(2)
    x = np.random.default_rng(22).standard_normal((4, WIDE.in_channels, 30))
    ours = run_layer(make_layer(WIDE, dtype=np.float32), x.astype(np.float32))
    assert {array.dtype for array in ours.values()} == {np.dtype(np.float32)}


def test_a_call_is_shared_only_where_it_pays_and_blas_has_threads(monkeypatch):
    monkeypatch.setattr(sharing, "blas_threads", lambda: 2)
    per_output = 6 * 2 * 24 * 16 * 5  # two samples: 6 · N · C_out · C_in · K
    large = -(-sharing.SHARE_MIN_FLOP // per_output)  # the fewest outputs that pay
    assert sharing.shares(WIDE, paths.TAPS, 2, large) == 2
    assert sharing.shares(WIDE, paths.COLUMNS, 2, large - 1) == 1
    assert sharing.shares(WIDE, paths.TAPS, 1, 100 * large) == 1  # one sample, two threads
    monkeypatch.setattr(sharing, "blas_threads", lambda: 8)
    assert sharing.shares(WIDE, paths.TAPS, 7, 100 * large) == 1  # BLAS keeps 8 cores busy
    assert sharing.shares(WIDE, paths.TAPS, 9, 100 * large) == 8
    monkeypatch.setattr(sharing, "blas_threads", lambda: 2)
    assert sharing.shares(WIDE, paths.BANDED, 2, 10) == 2  # "banded": always, BLAS never does
    monkeypatch.setattr(sharing, "blas_threads", lambda: 1)
    assert sharing.shares(WIDE, paths.BANDED, 16, 100 * large) == 1


def test_a_process_whose_blas_has_one_thread_never_shares():
    """As the tool checks (torch_side.one_thread): the built-in layer's sums in one order."""
    with threadpool_limits(limits=4, user_api="blas"):
        assert sharing.blas_threads() == 4
        with torch_side.one_thread():
            assert sharing.blas_threads() == 1


def test_without_threadpoolctl_no_call_is_shared_and_the_layer_works(monkeypatch):
    """`nn` needs only numpy: lifted out without threadpoolctl, it computes on BLAS's threads."""
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # its import raises ImportError
    monkeypatch.setattr(sharing, "SHARE_MIN_FLOP", 0)
    sharing._controller.cache_clear()
    try:
        assert sharing.blas_threads() == 1
        x = np.random.default_rng(24).standard_normal((4, WIDE.in_channels, 20))
        assert run_layer(make_layer(WIDE), x)["dX"].shape == x.shape
    finally:
        sharing._controller.cache_clear()


def test_blas_gets_its_threads_back_after_shared_calls_side_by_side_and_after_an_error(
    monkeypatch,
):
    """Four threads calling at once: BLAS is on one thread while any shares run, and on the
    threads it had once the last is done, also when a share raised."""
    monkeypatch.setattr(sharing, "SHARE_MIN_FLOP", 0)
    x = np.random.default_rng(23).standard_normal((6, WIDE.in_channels, 64))
    seen = []

    def call() -> None:
        layer = make_layer(WIDE)
        layer.backward(np.ones_like(layer(x)))
        seen.append(sharing.blas_threads())

    with threadpool_limits(limits=3, user_api="blas"):
        callers = [threading.Thread(target=call) for _ in range(4)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        assert len(seen) == 4 and sharing.blas_threads() == 3

        def broken(*args):
            raise RuntimeError("a share failed")

        monkeypatch.setitem(sharing.PATHS, paths.TAPS, broken)
        with forced(paths.TAPS), pytest.raises(RuntimeError, match="a share failed"):
            make_layer(WIDE)(x)
        assert sharing.blas_threads() == 3


def _shared_call_in_a_child(queue) -> None:
    sharing.SHARE_MIN_FLOP = 0
    sharing.blas_threads = lambda: 2
    layer = make_layer(WIDE)
    queue.put(layer(np.ones((4, WIDE.in_channels, 32))).shape)


def test_a_forked_child_shares_on_threads_of_its_own(threads):
    """The parent's pool has threads; a child forked from it has none of them."""
    threads(2)
    make_layer(WIDE)(np.ones((4, WIDE.in_channels, 32)))  # the parent's pool, started
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_shared_call_in_a_child, args=(queue,))
    with warnings.catch_warnings():  # Python 3.12 on: a fork beside threads is what is tested
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0 and queue.get(timeout=1) == (4, 24, 32)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.integers(2, 9), count=st.integers(2, 4))
def test_the_samples_are_shared_out_whole_and_evenly(threads, batch, count):
    """Each share's samples differ in number by one at most, and together they are the batch;
    with fewer samples than threads, the call is not shared."""
    threads(count)
    sizes = []
    original = paths.PATHS[paths.TAPS]

    def recording(spec, x, *args):
        sizes.append(x.shape[0])
        return original(spec, x, *args)

    with pytest.MonkeyPatch.context() as patch, forced(paths.TAPS):
        patch.setitem(sharing.PATHS, paths.TAPS, recording)
        make_layer(WIDE)(np.ones((batch, WIDE.in_channels, 20)))
    assert sum(sizes) == batch and len(sizes) == (count if batch >= count else 1)
    assert max(sizes) - min(sizes) <= 1
