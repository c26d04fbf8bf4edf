"""Padding as torch pads (zeros, reflect, replicate, circular), and its adjoint.

`pad` and `fold` are written branch for branch: each padded sample is a copy of one input
sample (or a constant zero), and `fold` adds its gradient back onto that sample.
`pad_phased` lays the padded input out as the products of `paths` read it, channels first
and split into stride phases; `fold_phased` is its adjoint.
"""

from __future__ import annotations

import numpy as np

from .spec import ConvSpec


def pad(
    x: np.ndarray, left: int, right: int, mode: str, out: np.ndarray | None = None
) -> np.ndarray:
    """(..., L) -> (..., left + L + right), padded as torch pads for `padding_mode`.

    Written into `out` when given (any strides, e.g. a channels-first view); else a new array,
    or x itself when there is no padding."""
    if out is None:
        if left == right == 0:
            return x
        out = np.empty((*x.shape[:-1], left + x.shape[-1] + right), dtype=x.dtype)
    length = x.shape[-1]
    out[..., left : left + length] = x
    head, tail = out[..., :left], out[..., left + length :]
    if mode == "zeros":
        head[...] = 0
        tail[...] = 0
    elif mode == "reflect":  # head mirrors x[1 : left+1], tail mirrors x[L-1-right : L-1]
        head[...] = x[..., 1 : left + 1][..., ::-1]
        tail[...] = x[..., length - 1 - right : length - 1][..., ::-1]
    elif mode == "replicate":  # every head sample copies x[0], every tail sample x[L-1]
        head[...] = x[..., :1]
        tail[...] = x[..., length - 1 :]
    elif mode == "circular":  # head is x[L-left:], tail is x[:right]
        head[...] = x[..., length - left :]
        tail[...] = x[..., :right]
    else:
        raise ValueError(f"unknown padding mode {mode!r}")
    return out


def fold(
    dxp: np.ndarray, left: int, right: int, mode: str, out: np.ndarray | None = None
) -> np.ndarray:
    """The adjoint of `pad`: (..., left + L + right) -> (..., L), written into `out` when
    given, else a new C-contiguous array.

    Each padded sample is a copy of an input sample (or a constant zero), so its
    gradient is added back onto the sample it was copied from.
    """
    length = dxp.shape[-1] - left - right
    if out is None:
        out = np.empty((*dxp.shape[:-1], length), dtype=dxp.dtype)
    dx = out
    dx[...] = dxp[..., left : left + length]
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


def phase_length(spec: ConvSpec, length: int) -> int:
    """P = ceil(Lp / stride): each sample's columns in its phases."""
    return -(-(length + sum(spec.pads)) // spec.stride)


def pad_phased(spec: ConvSpec, x: np.ndarray) -> np.ndarray:
    """x (N, C, L) -> phases (stride, G, C/G, N·P + T), padded, where T = the largest shift:
    every tap's columns of every block, up to the last sample's P, lie inside. Columns past a
    phase's end and the T at the end are zero: only the wasted columns read them."""
    n, channels, length = x.shape
    left, right = spec.pads
    padded, stride = length + left + right, spec.stride
    phase, tail = phase_length(spec, length), (spec.span - 1) // stride
    phases = np.empty((stride, channels, n * phase + tail), dtype=x.dtype)
    phases[..., n * phase :] = 0
    per_sample = phases[..., : n * phase].reshape(stride, channels, n, phase)
    if stride == 1:  # padded straight into the channels-first layout: one pass
        pad(x.transpose(1, 0, 2), left, right, spec.padding_mode, out=per_sample[0])
    else:
        xc = pad(x.transpose(1, 0, 2), left, right, spec.padding_mode)
        for r in range(stride):
            count = len(range(r, padded, stride))
            per_sample[r, ..., :count] = xc[..., r::stride]
            per_sample[r, ..., count:] = 0
    return phases.reshape(stride, spec.groups, spec.in_per_group, -1)


def fold_phased(spec: ConvSpec, dphases: np.ndarray, dX: np.ndarray) -> None:
    """The adjoint of `pad_phased`: dphases (stride, G, C/G, N·P + T) -> dX (N, C, L), written
    into dX."""
    n, _, length = dX.shape
    left, right = spec.pads
    padded, stride = length + left + right, spec.stride
    phase = phase_length(spec, length)
    dxc = dphases[..., : n * phase].reshape(stride, spec.in_channels, n, phase)
    if stride == 1:
        dxp = dxc[0].transpose(1, 0, 2)
    else:  # interleave the phases back into samples, then drop the zero fill; phase by phase,
        # so that each copy runs along a phase's positions (a third of the time of one copy
        # into (N, C, P, stride), whose innermost axis is the stride's: 0.86 ms against 2.5,
        # float64, 16 samples of 64 channels, P 513, stride 2)
        dxp = np.empty((n, spec.in_channels, phase * stride), dtype=dphases.dtype)
        for r in range(stride):
            dxp[..., r::stride] = dxc[r].transpose(1, 0, 2)
        dxp = dxp[..., :padded]
    fold(dxp, left, right, spec.padding_mode, out=dX)
