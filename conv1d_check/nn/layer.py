"""A fast numpy Conv1D with the whole behaviour of torch.nn.Conv1d.

Forward, for output channel o in group g = o // (C_out/G):

    y[n, o, t] = b[o] + Σ_c Σ_k W[o, c, k] · xp[n, g·C_in/G + c, t·stride + k·dilation]

where xp is x padded on the length axis. The backward pass is the adjoint of
each step, kept beside it: every product with W becomes a product with dy, the
window gather becomes a scatter-add per kernel tap, and the padding folds the
gradient of every padded copy back into dX.

The products themselves are computed by one of the paths of `paths`, chosen by shape, on
threads that share the samples where BLAS has threads and the call is large (`sharing`).
"""

from __future__ import annotations

import numpy as np

from . import sharing
from .paths import Scratch, choose_path
from .spec import ConvSpec, InvalidParameter


class Conv1D:
    """torch.nn.Conv1d in numpy: forward `y = layer(x)`, backward `db, dW, dX = layer.backward(dy)`.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
    padding_mode : as torch.nn.Conv1d; padding is an int, "valid" or "same".
    dtype : dtype of the parameters W and b.
    rng : np.random.Generator, RandomState or int seed for the initial weights; by
        default numpy's global generator, so `np.random.seed` makes runs repeat.

    Attributes
    ----------
    W : ndarray of shape (out_channels, in_channels / groups, kernel_size)
    b : ndarray of shape (out_channels,), or None without bias
    dW, db, dX : the gradients of the last `backward`, shaped like W, b and x.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | str = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: type | np.dtype = np.float64,
        rng: np.random.Generator | np.random.RandomState | int | None = None,
    ):
        self.spec = ConvSpec(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
        )
        if isinstance(rng, int):
            rng = np.random.default_rng(rng)
        uniform = (rng or np.random).uniform
        bound = 1.0 / np.sqrt(self.spec.in_per_group * self.spec.kernel_size)
        self.W = uniform(-bound, bound, self.spec.weight_shape).astype(dtype)
        self.b = uniform(-bound, bound, out_channels).astype(dtype) if bias else None
        self.dW = self.db = self.dX = None
        self._x = self._backward = None
        self._scratches: list[Scratch] = []  # the paths' temporaries, one per share, kept

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, C_in, L) or unbatched (C_in, L) -> y: (N, C_out, L_out) or (C_out, L_out)."""
        x = np.asarray(x)
        self._unbatched = x.ndim == 2
        x = self._check_input(x[None] if self._unbatched else x)
        spec, W = self.spec, self._weight(x.dtype)
        n, _, length = x.shape
        y = np.empty((n, spec.out_channels, spec.output_length(length)), dtype=x.dtype)
        b = None if self.b is None else self.b.astype(x.dtype, copy=False)
        path = choose_path(spec, n, length)
        self._backward = sharing.forward(path, spec, x, W, b, y, self._scratches)  # bound to x
        self._x = x
        return y[0] if self._unbatched else y

    def backward(self, delta: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """delta = dL/dy, shaped like y -> (db, dW, dX); db is None without bias."""
        if self._x is None:
            raise ValueError("backward: call forward first, backward needs its input")
        spec, x = self.spec, self._x
        dy = np.asarray(delta, dtype=x.dtype)
        dy = dy[None] if self._unbatched else dy
        n, _, length = x.shape
        expected = (n, spec.out_channels, spec.output_length(length))
        if dy.shape != expected:
            shown = expected[1:] if self._unbatched else expected
            raise InvalidParameter(
                "delta",
                f"delta has shape {tuple(np.shape(delta))}: it must match the output, {shown}",
            )
        dX = np.empty(x.shape, dtype=x.dtype)
        self.dW = self._backward(self._weight(x.dtype), dy, dX)
        self.db = dy.sum(axis=(0, 2)) if self.b is not None else None
        self.dX = dX[0] if self._unbatched else dX
        return self.db, self.dW, self.dX

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        spec = self.spec
        if x.ndim != 3:
            raise InvalidParameter(
                "x",
                f"x has shape {x.shape}: expected (N, C_in, L) or unbatched (C_in, L)",
            )
        if x.shape[1] != spec.in_channels:
            raise InvalidParameter(
                "x",
                f"x has {x.shape[1]} channels (shape {x.shape}): the layer expects "
                f"in_channels={spec.in_channels}",
            )
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(self.W.dtype)
        return x

    def _weight(self, dtype: np.dtype) -> np.ndarray:
        """W in the computation's dtype, after checking an assigned W still has the right shape."""
        W = np.asarray(self.W)
        if W.shape != self.spec.weight_shape:
            raise InvalidParameter("W", f"W has shape {W.shape}: expected {self.spec.weight_shape}")
        if self.b is not None and np.shape(self.b) != (self.spec.out_channels,):
            raise InvalidParameter(
                "b", f"b has shape {np.shape(self.b)}: expected ({self.spec.out_channels},)"
            )
        return W.astype(dtype, copy=False)
