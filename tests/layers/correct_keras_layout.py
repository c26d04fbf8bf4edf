# A from-scratch layer in Keras's layout: the input channels last, x (N, L, C_in) and
# y (N, L_out, C_out); the kernel as (K, C_in, C_out), the bias (C_out,). Its gradients
# `grad_kernel`, `grad_bias` and dX follow the same layouts. Correct, with stride.
import numpy as np


class Conv1D:
    def __init__(self, in_channels, filters, kernel_size, strides=1):
        self.kernel_size, self.strides = kernel_size, strides
        limit = np.sqrt(6.0 / (in_channels + filters) / kernel_size)
        self.kernel = np.random.uniform(-limit, limit, (kernel_size, in_channels, filters))
        self.bias = np.zeros(filters)

    def forward(self, x):
        """x (N, L, C_in) -> y (N, L_out, C_out)."""
        K, s = self.kernel_size, self.strides
        L_out = (x.shape[1] - K) // s + 1
        self.x, self.index = x, s * np.arange(L_out)[:, None] + np.arange(K)[None, :]
        windows = x[:, self.index, :]  # (N, L_out, K, C_in)
        return np.einsum("nlkc,kco->nlo", windows, self.kernel) + self.bias

    def backward(self, dy):
        """dy (N, L_out, C_out) -> dX (N, L, C_in); sets grad_kernel, grad_bias."""
        windows = self.x[:, self.index, :]
        self.grad_kernel = np.einsum("nlkc,nlo->kco", windows, dy)
        self.grad_bias = dy.sum(axis=(0, 1))
        dwindows = np.einsum("nlo,kco->nlkc", dy, self.kernel)
        dx = np.zeros_like(self.x)
        for k in range(self.kernel_size):
            np.add.at(dx, (slice(None), self.index[:, k]), dwindows[:, :, k])
        return dx
