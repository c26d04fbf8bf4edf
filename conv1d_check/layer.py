"""A fast numpy Conv1D with the whole behaviour of torch.nn.Conv1d.

Forward, for output channel o in group g = o // (C_out/G):

    y[n, o, t] = b[o] + Σ_c Σ_k W[o, c, k] · xp[n, g·C_in/G + c, t·stride + k·dilation]

where xp is x padded on the length axis. The backward pass is the adjoint of
each step, kept beside it: the window gather becomes a scatter-add per kernel
tap, and the padding folds the gradient of every padded copy back into dX.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .spec import ConvSpec, InvalidParameter

_NUMPY_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def pad(x: np.ndarray, left: int, right: int, mode: str) -> np.ndarray:
    """(N, C, L) -> (N, C, left + L + right), padded as torch pads for `padding_mode`."""
    if left == right == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (left, right)), mode=_NUMPY_PAD_MODES[mode])


def fold(dxp: np.ndarray, left: int, right: int, mode: str) -> np.ndarray:
    """The adjoint of `pad`: (N, C, left + L + right) -> (N, C, L).

    Each padded sample is a copy of an input sample (or a constant zero), so its
    gradient is added back onto the sample it was copied from.
    """
    length = dxp.shape[-1] - left - right
    dx = dxp[..., left : left + length].copy()
    head, tail = dxp[..., :left], dxp[..., left + length :]
    if mode == "reflect":  # head mirrors x[1 : left+1], tail mirrors x[L-1-right : L-1]
        dx[..., 1 : left + 1] += head[..., ::-1]
        dx[..., length - 1 - right : length - 1] += tail[..., ::-1]
    elif mode == "replicate":  # every head sample copies x[0], every tail sample x[L-1]
        dx[..., 0] += head.sum(axis=-1)
        dx[..., -1] += tail.sum(axis=-1)
    elif mode == "circular":  # head is x[L-left:], tail is x[:right]
        dx[..., length - left :] += head
        dx[..., :right] += tail
    return dx


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
        self._x = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, C_in, L) or unbatched (C_in, L) -> y: (N, C_out, L_out) or (C_out, L_out)."""
        x = np.asarray(x)
        self._unbatched = x.ndim == 2
        x = self._check_input(x[None] if self._unbatched else x)
        spec, W = self.spec, self._weight(x.dtype)
        n, _, length = x.shape
        l_out = spec.output_length(length)
        cols = self._columns(pad(x, *spec.pads, spec.padding_mode), l_out)
        y = W.reshape(spec.groups, spec.out_per_group, -1) @ cols  # (N, G, C_out/G, L_out)
        y = y.reshape(n, spec.out_channels, l_out)
        if self.b is not None:
            y += self.b.astype(x.dtype, copy=False)[:, None]
        self._x, self._cols = x, cols
        return y[0] if self._unbatched else y

    def backward(self, delta: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """delta = dL/dy, shaped like y -> (db, dW, dX); db is None without bias."""
        if self._x is None:
            raise ValueError("backward: call forward first, backward needs its input")
        spec, x, cols = self.spec, self._x, self._cols
        dy = np.asarray(delta, dtype=x.dtype)
        dy = dy[None] if self._unbatched else dy
        n, _, length = x.shape
        expected = (n, spec.out_channels, cols.shape[-1])
        if dy.shape != expected:
            shown = expected[1:] if self._unbatched else expected
            raise InvalidParameter(
                "delta",
                f"delta has shape {tuple(np.shape(delta))}: it must match the output, {shown}",
            )
        groups, l_out = spec.groups, expected[2]
        dy_g = dy.reshape(n, groups, spec.out_per_group, l_out)
        W_g = self._weight(x.dtype).reshape(groups, spec.out_per_group, -1)
        dW = np.einsum("ngot,ngct->goc", dy_g, cols, optimize=True)
        self.dW = dW.reshape(spec.weight_shape)
        self.db = dy.sum(axis=(0, 2)) if self.b is not None else None
        dcols = np.swapaxes(W_g, 1, 2) @ dy_g  # (N, G, C_in/G · K, L_out)
        dcols = dcols.reshape(n, spec.in_channels, spec.kernel_size, l_out)
        left, right = spec.pads
        dxp = np.zeros((n, spec.in_channels, left + length + right), dtype=x.dtype)
        last = spec.stride * (l_out - 1) + 1
        for k in range(spec.kernel_size):  # scatter-add each tap's gradient back to its samples
            start = k * spec.dilation
            dxp[..., start : start + last : spec.stride] += dcols[:, :, k]
        dX = fold(dxp, left, right, spec.padding_mode)
        self.dX = dX[0] if self._unbatched else dX
        return self.db, self.dW, self.dX

    def _columns(self, xp: np.ndarray, l_out: int) -> np.ndarray:
        """xp: (N, C_in, Lp) -> im2col columns (N, G, C_in/G · K, L_out).

        The windows are a strided view of shape (N, C_in, L_out, K); only the
        final reshape copies them.
        """
        spec = self.spec
        windows = sliding_window_view(xp, spec.span, axis=2)[:, :, :: spec.stride, :: spec.dilation]
        n = xp.shape[0]
        cols = windows.reshape(n, spec.groups, spec.in_per_group, l_out, spec.kernel_size)
        taps = spec.in_per_group * spec.kernel_size
        return cols.transpose(0, 1, 2, 4, 3).reshape(n, spec.groups, taps, l_out)

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
