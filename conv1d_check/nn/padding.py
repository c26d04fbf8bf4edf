"""Padding as torch pads (zeros, reflect, replicate, circular), and its adjoint."""

from __future__ import annotations

import numpy as np

_NUMPY_PAD_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def pad(x: np.ndarray, left: int, right: int, mode: str) -> np.ndarray:
    """(..., L) -> (..., left + L + right), padded as torch pads for `padding_mode`."""
    if left == right == 0:
        return x
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(left, right)], mode=_NUMPY_PAD_MODES[mode])


def fold(dxp: np.ndarray, left: int, right: int, mode: str) -> np.ndarray:
    """The adjoint of `pad`: (..., left + L + right) -> a new C-contiguous (..., L).

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
