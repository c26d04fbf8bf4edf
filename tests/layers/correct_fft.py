# A correct Conv1d that convolves with the FFT (np.fft: complex64 in float32, complex128 in
# float64), as cuDNN's FFT algorithms do. Each output is a sum of rounded transform terms, not
# of the products themselves: its error is norm-wise (about log2(m)·u·‖x‖·‖w‖ for each output,
# Higham §24), not bounded by its own terms, so positions that receive no terms are not exactly
# 0. It passes under --rule normwise; the element-wise rule may call it rounding beyond its
# bound. Supports stride, zero padding and bias=False; the layer convention.
import numpy as np


def _size(n):
    """The transform length: a power of two >= n, so that nothing wraps around."""
    return 1 << max(0, int(n - 1).bit_length())


def _conv(a, b, axes, m):
    """The full linear convolution of a and b along the last axis, contracting `axes`
    (an einsum of their spectra), in the inputs' precision."""
    spectrum = np.einsum(axes, np.fft.rfft(a, m), np.fft.rfft(b, m))
    return np.fft.irfft(spectrum, m)


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        scale = np.sqrt(1.0 / (in_channels * kernel_size))
        self.weights = np.random.uniform(-scale, scale, (out_channels, in_channels, kernel_size))
        self.biases = np.random.uniform(-scale, scale, out_channels) if bias else None
        self.grad_weights = self.grad_biases = None

    def forward(self, x):
        K, p = self.kernel_size, self.padding
        self.L = x.shape[2]
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p)))  # (N, C_in, Lp)
        self.full = self.xp.shape[2] - K + 1  # stride-1 output length
        self.m = _size(self.xp.shape[2] + self.full)
        W = self.weights.astype(x.dtype)
        # y[t] = Σ_k W[k]·x[t + k]: the convolution with the reversed kernel, from index K - 1
        y = _conv(self.xp, W[:, :, ::-1], "ncf,ocf->nof", self.m)[:, :, K - 1:K - 1 + self.full]
        y = y[:, :, ::self.stride]
        if self.biases is not None:
            y = y + self.biases.astype(x.dtype)[None, :, None]
        return y.astype(x.dtype)

    def backward(self, dy):
        K, p, m = self.kernel_size, self.padding, self.m
        g = np.zeros(dy.shape[:2] + (self.full,), dtype=dy.dtype)  # dy spread back to stride 1
        g[:, :, ::self.stride] = dy
        W = self.weights.astype(dy.dtype)
        # dX[j] = Σ_k W[k]·g[j - k]: the full convolution of g with W
        dxp = _conv(g, W, "nof,ocf->ncf", m)[:, :, :self.xp.shape[2]]
        # dW[k] = Σ_t g[t]·x[t + k]: x convolved with g reversed, from index full - 1
        T = self.full
        dw = _conv(self.xp, g[:, :, ::-1], "ncf,nof->ocf", m)[:, :, T - 1:T - 1 + K]
        self.grad_weights = dw.astype(dy.dtype)
        if self.biases is not None:
            self.grad_biases = dy.sum(axis=(0, 2))
        return dxp[:, :, p:p + self.L].astype(dy.dtype)
