"""How the numpy Conv1D computes its products: three paths, chosen by shape.

"taps" and "columns" share one layout. The padded input is laid out channels first, each
sample's P = ceil(Lp / stride) columns side by side, split into its stride phases:

    phases[r, c, n·P + q] = xp[n, c, q·stride + r]

so that tap k of output t of sample n reads column n·P + t + shift_k of phase r_k, where
(shift_k, r_k) = divmod(k·dilation, stride): a shift, never a stride. The outputs are computed
in blocks of samples (or, for a sample longer than a block, of positions), each block's
temporaries small enough to stay in cache and reused by the next block and the next call (the
layer keeps them, in a `Scratch`); each block writes its part of y, bias added, and adds its
gradient onto the phases' gradient.

- "taps": per tap, one product W[:, :, k] @ (the block's columns of x shifted by shift_k),
  summed: no copy of the windows, a few wasted columns between samples (t ≥ L_out).
- "columns": im2col per block, the K shifted copies stacked into one (C_in/G · K)-deep matrix
  and one product (the bias in it, against a row of ones), outputs packed: for layers that
  fan out, or many wasted columns.
- "banded": blocks of B outputs as one product with a band matrix built from W:
  for depthwise-like layers, whose per-tap products would be elementwise passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .padding import fold, fold_phased, pad, pad_phased, phase_length
from .spec import ConvSpec

# ---------------------------------------------------------------------------------------------
# Choosing a path, by the shape of one group's product: C_out/G × C_in/G, K taps. The
# thresholds come from timing the three paths, each forced, on the shapes of benchmarks/bench.py
# and on a grid (N 16, L 512; C_in/G 4 to 64, C_out/G 1 and 4 times that, K 3 and 7), in both
# dtypes:
# - Depthwise-like groups (C_in/G · C_out/G tiny): per-tap products are elementwise passes over
#   memory; the band matrix does S/K times the arithmetic, but as one BLAS product.
# - "taps" adds up K products of C_out/G rows, "columns" copies K shifted inputs of C_in/G rows
#   into one deeper product. Fanning out (C_out/G ≥ 2·C_in/G), "columns" was 10-30 % faster;
#   with as many outputs as inputs, "taps" was faster at every width, by up to 2.7 times at 4-8
#   channels. Many wasted columns between samples (short inputs, long kernels) cost "taps" in
#   arithmetic; "columns" packs the outputs. On small problems (N·L_out up to 2048; grid of
#   N 2-16, L 32-256, C 6-32, K 3-5) "columns" was 10-30 % faster: its 3 products and 2K
#   copies cost less per call than the 3K products and 2K sums of "taps".
# - Blocks: BLOCK_BYTES of temporaries per block (the columns' copies, a tap's product, the
#   outputs). 2 MiB made the products slower (−10 %: shorter, more calls); 8 to 64 MiB timed
#   the same on the suite's large shapes; 8 MiB stays well inside the 32 MiB L3 cache.
TAPS, COLUMNS, BANDED = "taps", "columns", "banded"
BANDED_MAX_PRODUCT = 4  # C_in/G · C_out/G at most this: banded
COLUMNS_MIN_FANOUT = 2  # C_out/G at least this many times C_in/G: columns
COLUMNS_MAX_OUTPUTS = 2048  # N·L_out at most this: columns
TAPS_MAX_WASTE = 0.25  # more than this share of the taps' columns thrown away: columns
BANDED_BLOCK = 16  # outputs per block in "banded"; a longer block wastes more arithmetic
BLOCK_BYTES = 2**23  # a block's temporaries at most about this many bytes


def choose_path(spec: ConvSpec, batch: int, length: int) -> str:
    """The path for `spec` on input (batch, C_in, length): "taps", "columns" or "banded"."""
    in_g, out_g = spec.in_per_group, spec.out_per_group
    if in_g * out_g <= BANDED_MAX_PRODUCT:
        return BANDED
    l_out = spec.output_length(length)
    if out_g >= COLUMNS_MIN_FANOUT * in_g or batch * l_out <= COLUMNS_MAX_OUTPUTS:
        return COLUMNS
    if 1 - l_out / phase_length(spec, length) > TAPS_MAX_WASTE:  # P: the taps' columns per sample
        return COLUMNS
    return TAPS


# ---------------------------------------------------------------------------------------------
# The layout. Forward takes x (N, C_in, L) unpadded, W and b in the computation's dtype (b may
# be None), y (N, C_out, L_out) to write the outputs into, and the layer's Scratch; it returns
# its own backward: the path's backward function with what it needs from the forward bound by
# name. That backward takes W, dy (N, C_out, L_out) and dX (N, C_in, L) to write the input's
# gradient into, and returns dW, a new array.

Backward = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
Block = tuple[int, int, int, int]
"""Samples n0:n1, outputs t0:t1 of each: either one sample or every output (t0, t1 = 0, L_out)."""


def _samples(flat: np.ndarray, count: int, width: int, period: int) -> np.ndarray:
    """A view (..., count, width) of flat (..., ≥ count·period, or width if count is 1):
    entry (i, t) is flat[..., i·period + t]."""
    if count == 1:
        return flat[..., None, :width]
    return flat[..., : count * period].reshape(*flat.shape[:-1], count, period)[..., :width]


def _blocks(n: int, l_out: int, period: int, column_bytes: int) -> Iterator[Block]:
    """Blocks of whole samples of `period` columns each, or of positions of one sample, whose
    temporaries, `column_bytes` per column, stay under BLOCK_BYTES. The samples are shared out
    evenly, the first blocks one larger when they do not divide (16 samples in blocks of at
    most 3: 3, 3, 3, 3, 2, 2; not 3, 3, 3, 3, 3, 1 whose last products are short and slow)."""
    columns = max(BLOCK_BYTES // column_bytes, 1)
    if period <= columns:
        blocks = -(-n // (columns // period))  # the fewest that hold every sample
        per, larger = divmod(n, blocks) if blocks else (0, 0)
        for i in range(blocks):
            n0 = i * per + min(i, larger)
            yield n0, n0 + per + (i < larger), 0, l_out
    else:
        for i in range(n):
            for t0 in range(0, l_out, columns):
                yield i, i + 1, t0, min(l_out, t0 + columns)


def _columns(block: Block, period: int) -> tuple[int, int]:
    """(J, room): the block's columns from its first output to its last, and the room its
    buffers need for `_samples` to view them."""
    n0, n1, t0, t1 = block
    used = (n1 - n0 - 1) * period + t1 - t0
    return used, (n1 - n0) * period if n1 - n0 > 1 else used


class Scratch:
    """A layer's temporaries, by name, reused from block to block and from call to call: the
    memory is allocated, and faulted in by the kernel, once rather than on every call. (Freed
    on every call, glibc gave a few hundred KiB of them back to the kernel each time, and
    faulting them in again took half the time of a small float64 layer.)"""

    def __init__(self):
        self.buffers: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        size = math.prod(shape)
        buffer = self.buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self.buffers[name] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)


def _write_out(y: np.ndarray, b: np.ndarray | None, acc: np.ndarray, block: Block, period: int):
    """y[n0:n1, :, t0:t1] = the block's outputs acc (C_out, J), columns `period` apart, + b."""
    n0, n1, t0, t1 = block
    out = _samples(acc, n1 - n0, t1 - t0, period).transpose(1, 0, 2)
    if b is None:
        y[n0:n1, :, t0:t1] = out
    else:
        np.add(out, b[:, None], out=y[n0:n1, :, t0:t1])


def _read_in(buffer: np.ndarray, dy: np.ndarray, block: Block, period: int) -> np.ndarray:
    """dy[n0:n1, :, t0:t1] laid out as the block's outputs: (C_out, J) in `buffer`, whose
    columns between samples ("taps"; "columns" packs them), never written, stay zero."""
    n0, n1, t0, t1 = block
    _samples(buffer, n1 - n0, t1 - t0, period)[...] = dy[n0:n1, :, t0:t1].transpose(1, 0, 2)
    return buffer[:, : _columns(block, period)[0]]


def _flat_forward(spec: ConvSpec, x, W, b, y, scratch: Scratch, *, packed: bool) -> Backward:
    """y block by block: the path's product fills each block's outputs (C_out, J), columns
    P apart ("taps") or packed L_out apart ("columns"), and they are written into y."""
    phases = pad_phased(spec, x)
    n, phase, l_out = x.shape[0], phase_length(spec, x.shape[-1]), y.shape[-1]
    period = l_out if packed else phase
    # "columns" adds b in its product, "taps" as it writes y out
    product = partial(_columns_product, bias=b) if packed else _taps_product
    for block in _blocks(n, l_out, period, _block_rows(spec, packed) * x.itemsize):
        acc = scratch("outputs", (spec.out_channels, _columns(block, period)[1]), x.dtype)
        product(spec, W, phases, phase, block, acc[:, : _columns(block, period)[0]], scratch)
        _write_out(y, None if packed else b, acc, block, period)
    return partial(_flat_backward, spec, phases=phases, packed=packed, scratch=scratch)


def _flat_backward(spec: ConvSpec, W, dy, dX, *, phases, packed: bool, scratch) -> np.ndarray:
    """dW, and dX block by block, each block's dy laid out as its outputs were: `phases`
    (stride, G, C_in/G, N·P + T) as the forward laid them out."""
    n, _, l_out = dy.shape
    phase = phase_length(spec, dX.shape[-1])
    period = l_out if packed else phase
    product = _columns_product if packed else _taps_product
    dW = np.zeros(spec.weight_shape, dtype=dy.dtype)
    dphases = np.zeros_like(phases)
    buffer = None
    for block in _blocks(n, l_out, period, _block_rows(spec, packed) * dy.itemsize):
        if buffer is None:  # the first block is the largest; one layout for every block, in
            # the forward's buffer of outputs (whose columns between samples it wrote)
            buffer = scratch("outputs", (spec.out_channels, _columns(block, period)[1]), dy.dtype)
            if not packed:  # "taps": the columns between samples, never written, zeros
                buffer[...] = 0
        d = _read_in(buffer, dy, block, period)
        product(spec, W, phases, phase, block, d, scratch, grads=(dW, dphases))
    fold_phased(spec, dphases, dX)
    return dW


def _block_rows(spec: ConvSpec, packed: bool) -> int:
    """Rows of a block's temporaries, per column: its outputs, and the columns' copies
    (with a row of ones) and their gradient, or one tap's product."""
    if packed:
        return spec.out_channels + (2 * spec.in_per_group * spec.kernel_size + 1) * spec.groups
    return spec.out_channels + max(spec.in_channels, spec.out_channels)


def _taps_product(spec: ConvSpec, W, phases, phase, block, out, scratch, grads=None):
    """Forward: out = Σ_k W[:, :, k] @ x_k, x_k the block's columns of phase r_k from
    shift_k on. Backward (grads = (dW, dphases), out = the block's dy):
    dW[:, :, k] += dy @ x_kᵀ and dx_k += W[:, :, k]ᵀ @ dy, on the same columns."""
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    start, used = block[0] * phase + block[2], out.shape[-1]
    out = out.reshape(groups, out_g, used)
    W_taps = np.moveaxis(W.reshape(groups, out_g, in_g, spec.kernel_size), -1, 0).copy()
    product = scratch("product", (groups, in_g if grads else out_g, used), out.dtype)
    for k in range(spec.kernel_size):
        shift, r = divmod(k * spec.dilation, spec.stride)
        x_k = phases[r, ..., start + shift : start + shift + used]
        if grads is None and k == 0:
            np.matmul(W_taps[k], x_k, out=out)
        elif grads is None:
            out += np.matmul(W_taps[k], x_k, out=product)
        else:
            dW, dphases = grads
            dW.reshape(groups, out_g, in_g, -1)[..., k] += out @ np.swapaxes(x_k, 1, 2)
            dx_k = dphases[r, ..., start + shift : start + shift + used]
            dx_k += np.matmul(np.swapaxes(W_taps[k], 1, 2), out, out=product)


def _columns_product(
    spec: ConvSpec, W, phases, phase, block, out, scratch, grads=None, *, bias=None
):
    """Forward: out = W_g @ columns + bias, columns (G, C_in/G · K, J) the block's windows
    copied from the phases (im2col); the bias, when given, as one more column of W_g against
    a row of ones under the columns (a pass over the outputs less: stem-3ch-s2's forward 1.75
    ms against 2.43, float64). Backward (out = the block's dy): dW += dy @ columnsᵀ and
    dcolumns = W_gᵀ @ dy, added back onto the phases tap by tap."""
    n0, n1, t0, t1 = block
    groups, in_g, kernel = spec.groups, spec.in_per_group, spec.kernel_size
    start, count, width = n0 * phase + t0, n1 - n0, t1 - t0
    depth = in_g * kernel
    taps = [divmod(k * spec.dilation, spec.stride) for k in range(kernel)]
    ones = int(bias is not None)
    stacked = scratch("columns", (groups, depth + ones, count * width), out.dtype)
    cols = stacked[:, :depth].reshape(groups, in_g, kernel, count, width)
    for k, (shift, r) in enumerate(taps):
        cols[:, :, k] = _samples(phases[r, ..., start + shift :], count, width, phase)
    W_g = W.reshape(groups, spec.out_per_group, depth)
    out = out.reshape(groups, spec.out_per_group, count * width)
    if grads is None:
        if bias is not None:
            stacked[:, depth] = 1
            W_g = np.concatenate([W_g, bias.reshape(groups, spec.out_per_group, 1)], axis=2)
        np.matmul(W_g, stacked, out=out)
        return
    dW, dphases = grads
    # As dWᵀ = columns @ dyᵀ: the C_in/G · K rows lead, which BLAS splits across threads better
    # (float64 0.42 ms against 0.57 for 16 outputs, 16 · 7 rows, 8192 columns).
    dW.reshape(W_g.shape)[...] += np.swapaxes(stacked @ np.swapaxes(out, 1, 2), 1, 2)
    dcols = scratch("dcolumns", (groups, depth, count * width), out.dtype)
    np.matmul(np.swapaxes(W_g, 1, 2), out, out=dcols)
    dcols = dcols.reshape(groups, in_g, kernel, count, width)
    for k, (shift, r) in enumerate(taps):
        _samples(dphases[r, ..., start + shift :], count, width, phase)[...] += dcols[:, :, k]


def _taps_forward(spec: ConvSpec, x, W, b, y, scratch) -> Backward:
    return _flat_forward(spec, x, W, b, y, scratch, packed=False)


def _columns_forward(spec: ConvSpec, x, W, b, y, scratch) -> Backward:
    return _flat_forward(spec, x, W, b, y, scratch, packed=True)


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


def _banded_forward(spec: ConvSpec, x, W, b, out, scratch) -> Backward:
    """y (`out`) blocks = segments (G, N·nb, C_in/G · S) @ band (G, C_in/G · S, C_out/G · B); its
    temporaries are its own (`scratch` unused)."""
    xp = pad(x, *spec.pads, spec.padding_mode)
    n, _, padded = xp.shape
    groups, out_g, in_g = spec.groups, spec.out_per_group, spec.in_per_group
    blocks = _Blocks.of(spec, out.shape[-1])
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
    y = y.reshape(n, spec.out_channels, blocks.count * blocks.size)[..., : out.shape[-1]]
    if b is None:
        out[...] = y
    else:  # the bias added in the pass that copies y out of the blocks' layout
        np.add(y, b[:, None], out=out)
    return partial(_banded_backward, spec, segments=segments, padded=padded)


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
    spec: ConvSpec, W: np.ndarray, dy: np.ndarray, dX: np.ndarray, *, segments, padded: int
) -> np.ndarray:
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
    del dsegments, starts  # freed before dX is allocated
    fold(dxp[..., :padded], *spec.pads, spec.padding_mode, out=dX)
    return dW


PATHS = {TAPS: _taps_forward, COLUMNS: _columns_forward, BANDED: _banded_forward}
"""Each path's forward: (spec, x, W, b, y, scratch) -> its backward (W, dy, dX) -> dW, writing
y and dX; `scratch` the layer's `Scratch`, which both use for their temporaries."""
