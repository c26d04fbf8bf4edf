"""How the numpy Conv1D computes its products: three paths, chosen by shape.

Three paths compute the same sums, each laying the work out so that batch and
length together are one dimension of a matrix: every product is one matrix
multiply per group (numpy's batched matmul over the G groups), never a loop over
samples or positions. `choose_path` picks the path by shape:

- "taps": one multiply per kernel tap, W[:, :, k] @ (x shifted by k·dilation),
  on contiguous slices of the input laid out channels first and flattened (of its
  stride phases when stride > 1): no copy of the windows, a few wasted columns
  between samples.
- "columns": im2col, the K shifted copies stacked into one (C_in/G · K)-deep
  matrix and one multiply: for few input channels per group.
- "banded": blocks of B outputs as one product with a band matrix built from W:
  for depthwise-like layers, whose per-tap products would be elementwise passes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .padding import pad
from .spec import ConvSpec

# ---------------------------------------------------------------------------------------------
# Choosing a path, by the shape of one group's product: C_out/G × C_in/G, K taps. The
# thresholds come from timing the three paths, each forced, on the shapes of benchmarks/bench.py
# and on a grid of 1 to 8 channels per group, against torch:
# - Depthwise-like groups (C_in/G · C_out/G tiny): per-tap products are elementwise passes over
#   memory; the band matrix does S/K times the arithmetic, but as one BLAS product.
# - "taps" never copies the windows, but each tap's product is only C_in/G deep and makes its own
#   pass over the output. With few input channels (a thin product), clearly more output channels
#   than input ones (K passes over the wider output cost more than K copies of the narrower
#   input), or many wasted columns between samples (short inputs, long kernels), "columns" is
#   faster.
TAPS, COLUMNS, BANDED = "taps", "columns", "banded"
BANDED_MAX_PRODUCT = 4  # C_in/G · C_out/G at most this: banded
TAPS_MIN_CHANNELS = 8  # fewer C_in/G than this: columns
COLUMNS_MIN_FANOUT = 1.5  # C_out/G at least this many times C_in/G: columns
TAPS_MAX_WASTE = 0.25  # more than this share of the taps' columns thrown away: columns
BANDED_BLOCK = 16  # outputs per block in "banded"; a longer block wastes more arithmetic


def choose_path(spec: ConvSpec, batch: int, length: int) -> str:
    """The path for `spec` on input (batch, C_in, length): "taps", "columns" or "banded"."""
    in_g, out_g = spec.in_per_group, spec.out_per_group
    if in_g * out_g <= BANDED_MAX_PRODUCT:
        return BANDED
    if in_g < TAPS_MIN_CHANNELS or out_g >= COLUMNS_MIN_FANOUT * in_g:
        return COLUMNS
    phase = -(-(length + sum(spec.pads)) // spec.stride)  # P: the taps' columns per sample
    if 1 - spec.output_length(length) / phase > TAPS_MAX_WASTE:
        return COLUMNS
    return TAPS


# ---------------------------------------------------------------------------------------------
# The paths. Forward takes x (N, C_in, L) unpadded, W in the computation's dtype and L_out; it
# returns y (N, C_out, L_out), possibly a view into its own layout, and its own backward: the
# path's backward function with what it needs from the forward bound by name. That backward
# takes W and dy (N, C_out, L_out) and returns dW and dxp (N, C_in, Lp), the gradient of the
# padded input, possibly a view; the layer adds the bias and folds the padding.

Backward = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _padded(spec: ConvSpec, x: np.ndarray, channels_first: bool = False) -> np.ndarray:
    """x (N, C, L) padded to (N, C, Lp), or to (C, N, Lp) laid out so with channels_first
    (padding and transposing in one pass); x itself, or a view of it, without padding."""
    return pad(x.transpose(1, 0, 2) if channels_first else x, *spec.pads, spec.padding_mode)


def _phases(xc: np.ndarray, stride: int) -> np.ndarray:
    """(C, N, Lp) -> (stride, C, N·P), P = ceil(Lp / stride): phase r of sample n is
    xc[:, n, r::stride] zero-filled to P, so that tap k of output t is entry
    t + (k·dilation) // stride of phase (k·dilation) % stride: a shift, not a stride."""
    channels, n, padded = xc.shape
    if stride == 1:
        return xc.reshape(1, channels, n * padded)
    phase = -(-padded // stride)
    buffer = np.zeros((channels, n, phase * stride), dtype=xc.dtype)
    buffer[..., :padded] = xc
    phases = buffer.reshape(channels, n, phase, stride).transpose(3, 0, 1, 2)
    return phases.reshape(stride, channels, n * phase)


def _tap_offsets(spec: ConvSpec) -> list[tuple[int, int]]:
    """(shift, phase) of each tap k: where x_k starts in `_phases`' flattened columns."""
    return [divmod(k * spec.dilation, spec.stride) for k in range(spec.kernel_size)]


def _taps_forward(
    spec: ConvSpec, x: np.ndarray, W: np.ndarray, l_out: int
) -> tuple[np.ndarray, Backward]:
    """y = Σ_k W[:, :, k] @ x_k, x_k the columns of tap k's phase from its shift on.

    Channels first, the samples side by side: column j = n·P + t is sample n, position t.
    J = (N−1)·P + L_out columns cover every output; those with t ≥ L_out, between samples,
    are computed and dropped."""
    xc = _padded(spec, x, channels_first=True)
    _, n, padded = xc.shape
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    phase = -(-padded // spec.stride)  # P
    phases = _phases(xc, spec.stride).reshape(spec.stride, groups, in_g, n * phase)
    used = max((n - 1) * phase + l_out, 0)  # J
    W_taps = np.moveaxis(W.reshape(groups, out_g, in_g, spec.kernel_size), -1, 0)  # (K, G, O, C)
    y = np.empty((groups, out_g, n * phase), dtype=x.dtype)
    product = np.empty((groups, out_g, used), dtype=x.dtype)
    for k, (shift, r) in enumerate(_tap_offsets(spec)):
        x_k = phases[r, ..., shift : shift + used]
        if k == 0:
            np.matmul(W_taps[k], x_k, out=y[..., :used])
        else:
            y[..., :used] += np.matmul(W_taps[k], x_k, out=product)
    y = y.reshape(spec.out_channels, n, phase)[..., :l_out].transpose(1, 0, 2)
    return y, partial(_taps_backward, spec, phases=phases, padded_shape=xc.shape)


def _taps_backward(
    spec: ConvSpec,
    W: np.ndarray,
    dy: np.ndarray,
    *,
    phases: np.ndarray,
    padded_shape: tuple[int, int, int],
):
    """dW[:, :, k] = dy @ x_kᵀ and dx_k += W[:, :, k]ᵀ @ dy, tap by tap, on the same columns:
    `phases` (stride, C_in, N·P) as the forward laid them out, from the padded (C, N, Lp)."""
    channels, n, padded = padded_shape
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    l_out = dy.shape[-1]
    phase = -(-padded // spec.stride)
    used = max((n - 1) * phase + l_out, 0)
    dy_flat = np.zeros((spec.out_channels, n, phase), dtype=dy.dtype)
    dy_flat[..., :l_out] = dy.transpose(1, 0, 2)  # zero in the dropped columns: they add nothing
    dy_flat = dy_flat.reshape(groups, out_g, n * phase)[..., :used]
    W_taps = np.moveaxis(W.reshape(groups, out_g, in_g, spec.kernel_size), -1, 0)
    dW = np.empty((spec.kernel_size, groups, out_g, in_g), dtype=dy.dtype)
    dphases = np.zeros_like(phases)
    product = np.empty((groups, in_g, used), dtype=dy.dtype)
    for k, (shift, r) in enumerate(_tap_offsets(spec)):
        np.matmul(dy_flat, np.swapaxes(phases[r, ..., shift : shift + used], 1, 2), out=dW[k])
        dx_k = dphases[r, ..., shift : shift + used]
        if k == 0:  # the first tap lands on zeros: written in place, not added
            np.matmul(np.swapaxes(W_taps[k], 1, 2), dy_flat, out=dx_k)
        else:
            dx_k += np.matmul(np.swapaxes(W_taps[k], 1, 2), dy_flat, out=product)
    dW = np.moveaxis(dW, 0, -1).reshape(spec.weight_shape)
    # The adjoint of _phases: interleave the phases back into samples, drop the zero fill.
    dxc = np.moveaxis(dphases.reshape(spec.stride, channels, n, phase), 0, -1)
    dxc = dxc.reshape(channels, n, phase * spec.stride)[..., :padded]
    return dW, dxc.transpose(1, 0, 2)


def _columns_forward(
    spec: ConvSpec, x: np.ndarray, W: np.ndarray, l_out: int
) -> tuple[np.ndarray, Backward]:
    """y = W_g @ columns, columns (G, C_in/G · K, N·L_out) the windows copied once (im2col)."""
    xp = _padded(spec, x)
    n = xp.shape[0]
    groups, in_g, kernel = spec.groups, spec.in_per_group, spec.kernel_size
    windows = sliding_window_view(xp, spec.span, axis=2)[..., :: spec.stride, :: spec.dilation]
    windows = windows.reshape(n, groups, in_g, l_out, kernel)  # a view: (N, G, C, L_out, K)
    cols = windows.transpose(1, 2, 4, 0, 3).reshape(groups, in_g * kernel, n * l_out)
    y = W.reshape(groups, spec.out_per_group, in_g * kernel) @ cols
    y = y.reshape(spec.out_channels, n, l_out).transpose(1, 0, 2)
    return y, partial(_columns_backward, spec, cols=cols, padded=xp.shape[-1])


def _columns_backward(
    spec: ConvSpec, W: np.ndarray, dy: np.ndarray, *, cols: np.ndarray, padded: int
):
    """dW = dy @ columnsᵀ; dcolumns = Wᵀ @ dy, scattered back onto the input tap by tap:
    `cols` (G, C_in/G · K, N·L_out) the forward's windows, `padded` the length Lp."""
    n, _, l_out = dy.shape
    groups, taps = spec.groups, spec.in_per_group * spec.kernel_size
    dy = dy.transpose(1, 0, 2).reshape(groups, spec.out_per_group, n * l_out)
    W_g = W.reshape(groups, spec.out_per_group, taps)
    # As dWᵀ = columns @ dyᵀ: the C_in/G · K rows lead, which BLAS splits across threads better.
    dW = np.swapaxes(cols @ np.swapaxes(dy, 1, 2), 1, 2).reshape(spec.weight_shape)
    dcols = (np.swapaxes(W_g, 1, 2) @ dy).reshape(spec.in_channels, spec.kernel_size, n, l_out)
    dxc = np.zeros((spec.in_channels, n, padded), dtype=dy.dtype)
    last = spec.stride * (l_out - 1) + 1
    for k in range(spec.kernel_size):
        start = k * spec.dilation
        dxc[..., start : start + last : spec.stride] += dcols[:, k]
    return dW, dxc.transpose(1, 0, 2)


class _Blocks(NamedTuple):
    """How "banded" cuts the output: `count` blocks of `size` outputs; block b reads the
    `segment` = (size − 1)·stride + span input samples from b·`step`, step = size·stride."""

    size: int
    step: int
    segment: int
    count: int

    @classmethod
    def of(cls, spec: ConvSpec, l_out: int) -> _Blocks:
        # A block at least span/stride long: a segment then overlaps only the next one.
        size = max(BANDED_BLOCK, -(-spec.span // spec.stride))
        segment = (size - 1) * spec.stride + spec.span
        return cls(size, size * spec.stride, segment, -(-l_out // size))


def _band(spec: ConvSpec, W: np.ndarray, blocks: _Blocks) -> np.ndarray:
    """W as a band matrix (G, C_in/G · S, C_out/G · B), S the segment and B the block size:

        band[g, (c, t·stride + k·dilation), (o, t)] = W[g·C_out/G + o, c, k], zero elsewhere,

    so that a segment of input times the band is the block's B outputs."""
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    band = np.zeros((groups, in_g, blocks.segment, out_g, blocks.size), dtype=W.dtype)
    rows, cols = _band_indices(spec, blocks)
    W_taps = W.reshape(groups, out_g, in_g, spec.kernel_size).transpose(3, 0, 2, 1)  # (K, G, C, O)
    band[:, :, rows, :, cols] = W_taps[:, None]
    return band.reshape(groups, in_g * blocks.segment, out_g * blocks.size)


def _band_indices(spec: ConvSpec, blocks: _Blocks) -> tuple[np.ndarray, np.ndarray]:
    """(K, B) index arrays (segment sample, block output): output t's tap k reads sample
    t·stride + k·dilation of the segment."""
    t = np.arange(blocks.size)
    k = np.arange(spec.kernel_size)[:, None]
    return t * spec.stride + k * spec.dilation, np.broadcast_to(t, (spec.kernel_size, blocks.size))


def _banded_forward(
    spec: ConvSpec, x: np.ndarray, W: np.ndarray, l_out: int
) -> tuple[np.ndarray, Backward]:
    """y blocks = segments (G, N·nb, C_in/G · S) @ band (G, C_in/G · S, C_out/G · B)."""
    xp = _padded(spec, x)
    n, _, padded = xp.shape
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    blocks = _Blocks.of(spec, l_out)
    reach = (blocks.count - 1) * blocks.step + blocks.segment  # the last segment's end
    if reach > padded:  # it runs past the input: zeros, whose outputs are dropped
        xp = np.concatenate([xp, np.zeros((n, spec.in_channels, reach - padded), xp.dtype)], 2)
    segments = sliding_window_view(xp, blocks.segment, axis=2)[..., :: blocks.step, :]
    segments = segments[..., : blocks.count, :].reshape(
        n, groups, in_g, blocks.count, blocks.segment
    )
    segments = segments.transpose(1, 0, 3, 2, 4)  # (G, N, nb, C, S), copied by the reshape:
    segments = segments.reshape(groups, n * blocks.count, in_g * blocks.segment)
    y = segments @ _band(spec, W, blocks)  # (G, N·nb, C_out/G · B)
    y = y.reshape(groups, n, blocks.count, out_g, blocks.size).transpose(1, 0, 3, 2, 4)
    y = y.reshape(n, spec.out_channels, blocks.count * blocks.size)[..., :l_out]
    return y, partial(_banded_backward, spec, segments=segments, padded=padded)


def _cut_into_blocks(spec: ConvSpec, dy: np.ndarray, blocks: _Blocks) -> np.ndarray:
    """dy (N, C_out, L_out) -> (G, N·nb, C_out/G · B), the layout of "banded"'s outputs:
    row (n, block), column (o, t); the last block zero-filled past L_out."""
    n, _, l_out = dy.shape
    groups, out_g = spec.groups, spec.out_per_group
    dy_blocks = np.zeros((groups, n, blocks.count, out_g, blocks.size), dtype=dy.dtype)
    into = dy_blocks.transpose(1, 0, 3, 2, 4)  # a view (N, G, O, nb, B)
    dy = dy.reshape(n, groups, out_g, l_out)
    full, rest = divmod(l_out, blocks.size)
    into[..., :full, :] = dy[..., : full * blocks.size].reshape(*into.shape[:3], full, blocks.size)
    if rest:
        into[..., full, :rest] = dy[..., full * blocks.size :]
    return dy_blocks.reshape(groups, n * blocks.count, out_g * blocks.size)


def _banded_backward(
    spec: ConvSpec, W: np.ndarray, dy: np.ndarray, *, segments: np.ndarray, padded: int
):
    """dband = segmentsᵀ @ dy, summed along its band into dW; dsegments = dy @ bandᵀ,
    overlap-added back onto the input: `segments` (G, N·nb, C_in/G · S) the forward's."""
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    n, _, l_out = dy.shape
    blocks = _Blocks.of(spec, l_out)
    dy_blocks = _cut_into_blocks(spec, dy, blocks)
    dband = np.swapaxes(segments, 1, 2) @ dy_blocks
    dband = dband.reshape(groups, in_g, blocks.segment, out_g, blocks.size)
    rows, cols = _band_indices(spec, blocks)
    dW = dband[:, :, rows, :, cols].sum(axis=1)  # (K, B, G, C, O) summed over the block
    dW = dW.transpose(1, 3, 2, 0).reshape(spec.weight_shape)
    dsegments = dy_blocks @ np.swapaxes(_band(spec, W, blocks), 1, 2)
    del dy_blocks  # freed before dxp is allocated
    dsegments = dsegments.reshape(groups, n, blocks.count, in_g, blocks.segment)
    dsegments = dsegments.transpose(1, 0, 3, 2, 4)  # a view (N, G, C, nb, S)
    # Overlap-add: segment b covers [b·step, b·step + S). Its first min(S, step) samples meet
    # no other segment; the rest (span − stride of them) lie on the start of segment b + 1.
    length = max(padded, (blocks.count + 1) * blocks.step)
    dxp = np.zeros((n, spec.in_channels, length), dtype=dsegments.dtype)
    per_group = dxp.reshape(n, groups, in_g, length)
    head = min(blocks.segment, blocks.step)
    starts = per_group[..., : blocks.count * blocks.step]
    starts = starts.reshape(*dsegments.shape[:-1], blocks.step)
    starts[..., :head] = dsegments[..., :head]
    if blocks.segment > blocks.step:
        nexts = per_group[..., blocks.step : (blocks.count + 1) * blocks.step]
        nexts = nexts.reshape(*dsegments.shape[:-1], blocks.step)
        nexts[..., : blocks.segment - blocks.step] += dsegments[..., blocks.step :]
    return dW, dxp[..., :padded]


PATHS = {TAPS: _taps_forward, COLUMNS: _columns_forward, BANDED: _banded_forward}
"""Each path's forward: (spec, x, W, L_out) -> (y, its backward (W, dy) -> (dW, dxp))."""
