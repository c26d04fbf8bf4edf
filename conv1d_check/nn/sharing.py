"""A layer call's samples shared out among threads, each running the path on its own samples
with BLAS on one thread.

Left to itself, BLAS splits every product across its threads: a convolution's products are
middling (64 × 64 × 8,000 for the bench's "medium"), so the threads meet at each of them, and
the passes between them (the padding, the sums of the taps, the write-out) run on one core;
"banded" makes a product per group, too small for BLAS to split. Given whole samples
each, the threads run the whole path side by side: the bench's float64 median went from
1.00-1.15 of torch's time to 0.90-0.94 (`benchmarks/RESULTS.md`).

A call is shared when BLAS may use more than one thread (the fewest any loaded BLAS allows:
a process pinned to one thread, as the tool's checks are, never shares), the batch has a
sample for each of them, and the call pays for the threads: "banded", or SHARE_MIN_FLOP of
work (below it, on "small", "replicate" and "stem-3ch-s2", the shared calls were slower).
Each share has its own `Scratch`; the shares' dW are summed in order, so a call's results
depend only on the number of threads. While shares run, every BLAS of the process is held to
one thread (another thread's product meanwhile runs on one, and a child forked meanwhile keeps
one); the last call to finish puts back the limits the first one found.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache, partial
from itertools import pairwise

import numpy as np

from .paths import BANDED, PATHS, Backward, Scratch
from .spec import ConvSpec

SHARE_MIN_FLOP = 2**28  # a call's work, 6 · N · C_out · L_out · C_in/G · K, for "taps"/"columns"


def shares(spec: ConvSpec, path: str, batch: int, l_out: int) -> int:
    """How many threads a call on `batch` samples shares its samples among (1: not shared):
    as many as BLAS may use, where there are samples for each (fewer would leave cores idle
    that BLAS, splitting the products, keeps busy)."""
    flop = 6 * batch * spec.out_channels * l_out * spec.in_per_group * spec.kernel_size
    if path != BANDED and flop < SHARE_MIN_FLOP:
        return 1
    threads = blas_threads()
    return threads if batch >= threads else 1


def blas_threads() -> int:
    """The threads BLAS may use now: the fewest any loaded BLAS library allows (1 where
    threadpoolctl, which reads and sets them, is not installed: `nn` needs only numpy)."""
    controller = _controller()
    if controller is None:
        return 1
    counts = [lib.num_threads for lib in controller.select(user_api="blas").lib_controllers]
    return min(counts, default=1)


@cache
def _controller():
    """threadpoolctl's view of the loaded libraries, taken once; None without threadpoolctl."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def forward(path: str, spec: ConvSpec, x, W, b, y, scratches: list[Scratch]) -> Backward:
    """The path's forward on x (N, C_in, L) into y (N, C_out, L_out), its samples shared
    among threads as `shares` says; returns the backward (W, dy, dX) -> dW, shared alike.
    `scratches`: the layer's, one per share, grown as needed."""
    count = shares(spec, path, x.shape[0], y.shape[-1])
    scratches += [Scratch() for _ in range(count - len(scratches))]
    run = PATHS[path]
    if count == 1:
        return run(spec, x, W, b, y, scratches[0])
    cuts = np.linspace(0, x.shape[0], count + 1).astype(int)
    parts = [slice(a, z) for a, z in pairwise(cuts)]
    backwards = _on_threads(
        lambda i: run(spec, x[parts[i]], W, b, y[parts[i]], scratches[i]), count
    )
    return partial(_backward, backwards, parts)


def _backward(backwards: list[Backward], parts: list[slice], W, dy, dX) -> np.ndarray:
    """dW summed over the shares in order, each writing its samples of dX."""
    found = _on_threads(lambda i: backwards[i](W, dy[parts[i]], dX[parts[i]]), len(parts))
    dW = found[0]
    for part in found[1:]:
        dW += part
    return dW


def _on_threads(task, count: int) -> list:
    """[task(0), ..., task(count − 1)], run side by side, BLAS on one thread meanwhile."""
    with _blas_on_one_thread():
        return list(_pool(count).map(task, range(count)))


_lock = threading.Lock()
_running = 0  # shared calls under way in this process
_limits = None  # what the first of them found, put back by the last


@contextmanager
def _blas_on_one_thread() -> Iterator[None]:
    global _running, _limits
    with _lock:
        if _running == 0:
            _limits = _controller().limit(limits=1, user_api="blas")
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                _limits.restore_original_limits()


_executor: ThreadPoolExecutor | None = None
_size = 0  # its threads


def _pool(count: int) -> ThreadPoolExecutor:
    """The process's threads for shares, at least `count` of them."""
    global _executor, _size
    with _lock:
        if _size < count:
            if _executor is not None:
                _executor.shutdown(wait=False)  # its threads end once idle
            _executor, _size = ThreadPoolExecutor(count, "conv1d-share"), count
        return _executor


def _forget_pool() -> None:
    """In a forked child: the parent's threads are not there, so new ones are made."""
    global _executor, _size, _running, _lock
    _executor, _size, _running, _lock = None, 0, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)
