"""The torch side: torch.nn.Conv1d forward and backward on given numpy tensors, and the float64
truth with the sums that bound its rounding.

torch is imported when a case first reaches it (`_torch`), so that importing conv1d_check,
`--help` and `--version` never pay for it, and a layer that fails, hangs or times out is
reported without it (2 s of CPU here).
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..nn.spec import ConvSpec
from .tolerance import Sums

Tensors = dict[str, np.ndarray]


class DeviceUnavailable(RuntimeError):
    """The requested torch device cannot be used on this machine."""


def check_device(device: str) -> None:
    """Raise DeviceUnavailable unless torch can run on `device` ('cpu' or 'cuda')."""
    if device != "cuda":
        return
    import torch

    if not torch.cuda.is_available():
        built = "without CUDA" if torch.version.cuda is None else f"with CUDA {torch.version.cuda}"
        raise DeviceUnavailable(
            f"--device cuda: CUDA is not available (torch {torch.__version__} is built {built}"
            " and sees no GPU); use --device cpu"
        )


_pins = threading.Lock()
_pinned = 0  # one_thread blocks open in this process (and pin_for_good's pin)
_torch_threads: int | None = None  # torch's own count, restored when the last block ends


@contextmanager
def one_thread() -> Iterator[None]:
    """torch, and the BLAS and OpenMP libraries loaded here, on one thread inside the block:
    torch at once if imported, else when a case first imports it (`_torch`).

    The thread count changes the last bits of large sums (dW), so every case runs on one
    thread, in this process as in a sweep's workers.
    """
    global _pinned, _torch_threads
    limits = pin_for_good()
    try:
        yield
    finally:
        limits.restore_original_limits()
        with _pins:
            _pinned -= 1
            if not _pinned and _torch_threads is not None:
                sys.modules["torch"].set_num_threads(_torch_threads)
                _torch_threads = None


def pin_for_good() -> object:
    """One thread from now on, as inside one_thread (a sweep's worker, for its whole life).
    Returns threadpoolctl's limits (a threadpool_limits), which one_thread restores."""
    global _pinned
    from threadpoolctl import threadpool_limits

    limits = threadpool_limits(limits=1)
    with _pins:
        _pinned += 1
    if "torch" in sys.modules:
        _torch()
    return limits


def _torch():
    """torch, imported on first use; on one thread while one_thread's block is open."""
    global _torch_threads
    import torch

    with _pins:
        if _pinned and _torch_threads is None:
            _torch_threads = torch.get_num_threads()
            torch.set_num_threads(1)
    return torch


@contextmanager
def _tf32(enabled: bool):
    """Let cuDNN use TF32 for float32 convolutions only inside the block."""
    import torch

    conv = torch.backends.cudnn.conv
    before = conv.fp32_precision
    conv.fp32_precision = "tf32" if enabled else "ieee"
    try:
        yield
    finally:
        conv.fp32_precision = before


def conv1d(
    spec: ConvSpec,
    x: np.ndarray,
    W: np.ndarray,
    b: np.ndarray | None,
    dy: np.ndarray,
    device: str = "cpu",
    tf32: bool = False,
) -> Tensors:
    """Run torch.nn.Conv1d(spec) with weights W, b on x, and backpropagate dy.

    x: (N, C_in, L), W: (C_out, C_in/G, K), b: (C_out,) or None, dy: (N, C_out, L_out), all of
    one dtype, which torch computes in. Returns numpy arrays y, dX, dW and (with bias) db.
    """
    torch = _torch()
    dtype = getattr(torch, np.dtype(x.dtype).name)
    layer = torch.nn.Conv1d(*spec.arguments(), device=device, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(W))
        if b is not None:
            layer.bias.copy_(torch.from_numpy(b))
    xt = torch.from_numpy(x).to(device).requires_grad_()
    dyt = torch.from_numpy(dy).to(device)
    with _tf32(tf32), warnings.catch_warnings():
        # torch's note that 'same' with an even kernel copies the input: speed, not results
        warnings.filterwarnings("ignore", message="Using padding='same'")
        yt = layer(xt)
        # The backward of Σ y·dy hands y exactly dy (1·dy, element by element), as
        # yt.backward(dyt) would; a scalar's backward skips the shape check for which torch
        # imports sympy, 0.6 s of CPU in every process that checks a case.
        (yt * dyt).sum().backward()
    out = {"y": yt.detach(), "dX": xt.grad, "dW": layer.weight.grad}
    if b is not None:
        out["db"] = layer.bias.grad
    return {name: t.cpu().numpy() for name, t in out.items()}


@dataclass(frozen=True)
class Truth:
    """The float64 results, and per element the sums that bound their rounding: Σ|t_i| and
    sqrt(Σ t_i²) over the terms t_i summed into it. Each dict holds y, dX, dW (and db)."""

    values: Tensors
    abs_sums: Tensors
    root_sum_squares: Tensors

    def sums(self, name: str, terms: int) -> Sums:
        """What the pass rule needs for tensor `name`, whose elements sum at most `terms`."""
        return Sums(self.values[name], self.abs_sums[name], self.root_sum_squares[name], terms)


def oracle(
    spec: ConvSpec, x: np.ndarray, W: np.ndarray, b: np.ndarray | None, dy: np.ndarray
) -> Truth:
    """The float64 truth, from torch on the CPU in float64: once on the tensors, once on their
    absolute values (which gives Σ|t_i| for every element of y, dX, dW and db), once on their
    squares (Σ t_i², scaled: `root_sum_squares`)."""
    as64 = [None if t is None else np.asarray(t, dtype=np.float64) for t in (x, W, b, dy)]
    values = conv1d(spec, *as64)
    abs_sums = conv1d(spec, *[None if t is None else np.abs(t) for t in as64])
    return Truth(values, abs_sums, root_sum_squares(spec, *as64))


def root_sum_squares(
    spec: ConvSpec, x: np.ndarray, W: np.ndarray, b: np.ndarray | None, dy: np.ndarray
) -> Tensors:
    """sqrt(Σ t_i²) of every element of y, dX, dW (and db), float64, without the squares
    underflowing (values near 1e-100) or overflowing (1e+100): as BLAS's nrm2 does, x, W and dy
    are first divided by a power of two near their largest magnitude (exactly), b by x's and
    W's together (it is a term of y), and the scales put back on the roots."""
    ex, ew, edy = (_exponent(t) for t in (x, W, dy))
    scaled = [_ldexp(x, -ex), _ldexp(W, -ew), None, _ldexp(dy, -edy)]
    if b is not None:
        scaled[2] = _ldexp(b, -(ex + ew))
    with np.errstate(over="ignore"):  # each squared where it is: new arrays, a copy less each
        squares = conv1d(spec, *[None if t is None else np.square(t, out=t) for t in scaled])
    scales = {"y": ex + ew, "dX": edy + ew, "dW": edy + ex, "db": edy}
    with np.errstate(over="ignore"):
        return {name: _ldexp(np.sqrt(s, out=s), scales[name], out=s) for name, s in squares.items()}


def _ldexp(values: np.ndarray, exponent: int, out: np.ndarray | None = None) -> np.ndarray:
    """values · 2^exponent, rounded as np.ldexp rounds it: by one multiplication where 2^exponent
    is a normal float64, whose product is then exact or rounded once (4 times faster). Written
    into `out` when given, else a new array."""
    if -1022 <= exponent <= 1023:
        return np.multiply(values, 2.0**exponent, out=out)
    return np.ldexp(values, exponent, out=out)


def _exponent(values: np.ndarray) -> int:
    """e such that the largest |value| is in [2^(e−1), 2^e) (0 for none or all zeros)."""
    largest = float(np.max(np.abs(values), initial=0.0))
    return int(np.frexp(largest)[1]) if 0 < largest < np.inf else 0
