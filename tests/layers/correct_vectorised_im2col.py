# The notebook's Conv1D (same constructor, __call__, backward -> (db, dW, dX)),
# vectorised with im2col: every window becomes a row of a matrix, and the
# convolution is one matrix product.
import numpy as np


class Conv1D:
    def __init__(self, in_channel, out_channel, kernel_size, stride):
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.kernel_size = kernel_size
        self.stride = stride
        k = 1 / (in_channel * kernel_size)
        self.W = np.random.uniform(-np.sqrt(k), np.sqrt(k), (out_channel, in_channel, kernel_size))
        self.b = np.random.uniform(-np.sqrt(k), np.sqrt(k), out_channel)

    def __call__(self, x):
        self.x = x
        N, C, L = x.shape
        K = self.kernel_size
        self.out_width = (L - K) // self.stride + 1
        # idx[i, k] = stride*i + k: the input position under tap k of window i
        self.idx = self.stride * np.arange(self.out_width)[:, None] + np.arange(K)[None, :]
        # cols: one row per (sample, window), C*K columns
        self.cols = x[:, :, self.idx].transpose(0, 2, 1, 3).reshape(N * self.out_width, C * K)
        W2 = self.W.reshape(self.out_channel, C * K)
        y = self.cols @ W2.T + self.b
        y = y.reshape(N, self.out_width, self.out_channel).transpose(0, 2, 1)
        return np.ascontiguousarray(y, dtype=x.dtype)

    def backward(self, delta):
        N, C, L = self.x.shape
        K = self.kernel_size
        d2 = delta.transpose(0, 2, 1).reshape(N * self.out_width, self.out_channel)
        dW = (d2.T @ self.cols).reshape(self.W.shape).astype(self.x.dtype, copy=False)
        db = delta.sum(axis=(0, 2)).astype(self.x.dtype, copy=False)
        dcols = (d2 @ self.W.reshape(self.out_channel, C * K)).reshape(N, self.out_width, C, K)
        dX = np.zeros(self.x.shape, dtype=self.x.dtype)
        for k in range(K):  # col2im: windows overlap, so add tap by tap
            dX[:, :, self.idx[:, k]] += dcols[:, :, :, k].transpose(0, 2, 1)
        return db, dW, dX
