# A from-scratch library that keeps its bias as a column (C_out, 1) and its weights flattened,
# (C_out, C_in*K), as im2col code often does; its gradients come back in the same shapes.
# Correct, with zero padding and stride.
import numpy as np


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        scale = np.sqrt(1.0 / (in_channels * kernel_size))
        self.W = np.random.uniform(-scale, scale, (out_channels, in_channels * kernel_size))
        self.b = np.zeros((out_channels, 1))

    def forward(self, x):
        K, s = self.kernel_size, self.stride
        xp = np.pad(x, ((0, 0), (0, 0), (self.padding, self.padding)))
        self.shape, self.L_out = x.shape, (xp.shape[2] - K) // s + 1
        self.idx = s * np.arange(self.L_out)[:, None] + np.arange(K)[None, :]
        # cols: (N, C_in*K, L_out)
        self.cols = xp[:, :, self.idx].transpose(0, 1, 3, 2).reshape(x.shape[0], -1, self.L_out)
        return self.W @ self.cols + self.b

    def backward(self, dout):
        N, C, L = self.shape
        self.dW = np.einsum("nol,ncl->oc", dout, self.cols)
        self.db = dout.sum(axis=(0, 2))[:, None]
        dcols = (self.W.T @ dout).reshape(N, C, self.kernel_size, self.L_out)
        dxp = np.zeros((N, C, L + 2 * self.padding), dtype=dout.dtype)
        for k in range(self.kernel_size):
            np.add.at(dxp, (slice(None), slice(None), self.idx[:, k]), dcols[:, :, k])
        return dxp[:, :, self.padding:self.padding + L]
