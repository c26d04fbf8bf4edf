# A functional 1-D convolution (cs231n "conv_forward_naive" style): plain
# loops, no class. forward(x, w, b, stride, padding=0) -> (out, cache);
# backward(dout, cache) -> (dx, dw, db). b may be None (no bias).
import numpy as np


def forward(x, w, b, stride, padding=0):
    N, C, L = x.shape
    F, _, K = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    L_out = (L + 2 * padding - K) // stride + 1
    out = np.zeros((N, F, L_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(L_out):
                start = i * stride
                out[n, f, i] = np.sum(xp[n, :, start:start + K] * w[f])
                if b is not None:
                    out[n, f, i] += b[f]
    cache = (x, w, b, stride, padding)
    return out, cache


def backward(dout, cache):
    x, w, b, stride, padding = cache
    N, C, L = x.shape
    F, _, K = w.shape
    L_out = dout.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(L_out):
                start = i * stride
                dw[f] += dout[n, f, i] * xp[n, :, start:start + K]
                dxp[n, :, start:start + K] += dout[n, f, i] * w[f]
    dx = dxp[:, :, padding:padding + L]
    db = dout.sum(axis=(0, 2)) if b is not None else None
    return dx, dw, db
