# A correct layer that accumulates every sum one term at a time, in the input's dtype, the way a
# loop `s += w * x` does (np.cumsum is exactly that: sequential, never pairwise). In float32 its
# rounding errors are the largest a sensible layer makes: the pass rule must let them through
# at every length. Stride and zero padding; groups 1.
import numpy as np


def _sequential_sum(terms, axis):
    """The sum along `axis`, one term at a time, in the terms' dtype."""
    return np.cumsum(terms, axis=axis, dtype=terms.dtype).take(-1, axis=axis)


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        scale = np.sqrt(1.0 / (in_channels * kernel_size))
        self.weight = np.random.uniform(-scale, scale, (out_channels, in_channels, kernel_size))
        self.bias = np.zeros(out_channels)

    def forward(self, x):
        K, s = self.kernel_size, self.stride
        self.xp = np.pad(x, ((0, 0), (0, 0), (self.padding, self.padding)))
        self.L, L_out = x.shape[2], (self.xp.shape[2] - K) // s + 1
        self.idx = s * np.arange(L_out)[:, None] + np.arange(K)[None, :]  # (L_out, K)
        windows = self.xp[:, :, self.idx]  # (N, C_in, L_out, K)
        W = self.weight.astype(x.dtype)
        # y[n, o, t] = b[o] + sum over (c, k) of W[o, c, k] * x[n, c, t*s + k], one term at a
        # time in the order (c, k), as the loop `s += w * x` adds them
        y = np.empty((x.shape[0], W.shape[0], L_out), dtype=x.dtype)
        y[...] = self.bias.astype(x.dtype)[None, :, None]
        for c in range(W.shape[1]):
            for k in range(K):
                y += W[None, :, c, k, None] * windows[:, c, None, :, k]
        return y

    def backward(self, dy):
        N, C_out, L_out = dy.shape
        windows = self.xp[:, :, self.idx]  # (N, C_in, L_out, K)
        # dW[o, c, k]: over (n, t), one term at a time
        terms = np.einsum("not,nctk->ocknt", dy, windows).reshape(*self.weight.shape, N * L_out)
        self.dW = _sequential_sum(terms, axis=3)
        self.db = _sequential_sum(dy.transpose(1, 0, 2).reshape(C_out, -1), axis=1)
        # dX: every (o, k) pair's term added to its input position, one after the other
        W = self.weight.astype(dy.dtype)
        dxp = np.zeros(self.xp.shape, dtype=dy.dtype)
        for o in range(C_out):
            for k in range(self.kernel_size):
                dxp[:, :, self.idx[:, k]] += W[o, :, k][None, :, None] * dy[:, o, None, :]
        return dxp[:, :, self.padding:self.padding + self.L]
