"""The convolution formula as plain loops: slow on purpose, the readable truth for tests.

The notebook's formulas, extended to padding, dilation and groups. With
g = o // (C_out/G) the group of output channel o and j = g·(C_in/G) + c:

    y[n, o, t]  = b[o] + Σ_c Σ_k W[o, c, k] · x[n, j, src(t·stride + k·dilation)]
    db[o]       = Σ_n Σ_t dy[n, o, t]
    dW[o, c, k] = Σ_n Σ_t dy[n, o, t] · x[n, j, src(t·stride + k·dilation)]
    dX[n, j, i] = Σ dy[n, o, t] · W[o, c, k] over (o, c, k, t) with src(t·stride + k·dilation) = i

where src(p) maps position p of the padded input to the input sample it copies,
or to nothing for zero padding. Use on small cases only.
"""

from __future__ import annotations

import numpy as np

from .spec import ConvSpec


def source_index(p: int, length: int, left: int, mode: str) -> int | None:
    """The input sample that position p of the padded input copies (None: a zero pad)."""
    i = p - left
    if 0 <= i < length:
        return i
    if mode == "zeros":
        return None
    if mode == "replicate":
        return 0 if i < 0 else length - 1
    if mode == "circular":
        return i % length
    return -i if i < 0 else 2 * (length - 1) - i  # reflect: mirror about the end samples


def _taps(spec: ConvSpec, length: int):
    """Yield (o, j, c, k, t, i): every product W[o, c, k] · x[., j, i] that feeds y[., o, t]."""
    left, _ = spec.pads
    for o in range(spec.out_channels):
        g = o // spec.out_per_group
        for c in range(spec.in_per_group):
            j = g * spec.in_per_group + c
            for k in range(spec.kernel_size):
                for t in range(spec.output_length(length)):
                    p = t * spec.stride + k * spec.dilation
                    i = source_index(p, length, left, spec.padding_mode)
                    if i is not None:
                        yield o, j, c, k, t, i


def forward(spec: ConvSpec, x: np.ndarray, W: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """x: (N, C_in, L), W: (C_out, C_in/G, K), b: (C_out,) or None -> y: (N, C_out, L_out)."""
    n, _, length = x.shape
    y = np.zeros((n, spec.out_channels, spec.output_length(length)), dtype=x.dtype)
    if b is not None:
        y += b[:, None]
    for o, j, c, k, t, i in _taps(spec, length):
        for s in range(n):
            y[s, o, t] += W[o, c, k] * x[s, j, i]
    return y


def backward(
    spec: ConvSpec, x: np.ndarray, W: np.ndarray, dy: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """dy: (N, C_out, L_out) -> (db, dW, dX); db is None without bias."""
    n, _, length = x.shape
    db = dy.sum(axis=(0, 2)) if spec.bias else None
    dW = np.zeros_like(W)
    dX = np.zeros_like(x)
    for o, j, c, k, t, i in _taps(spec, length):
        for s in range(n):
            dW[o, c, k] += dy[s, o, t] * x[s, j, i]
            dX[s, j, i] += dy[s, o, t] * W[o, c, k]
    return db, dW, dX
