# A from-scratch library's layer that keeps its parameters in dicts, as many do:
# self.params["W"] (C_out, C_in, K) and ["b"] (C_out,), gradients in self.grads under the same
# keys. Torch's layout; correct, with stride and zero padding.
import numpy as np


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        scale = np.sqrt(1.0 / (in_channels * kernel_size))
        self.params = {
            "W": np.random.uniform(-scale, scale, (out_channels, in_channels, kernel_size)),
            "b": np.zeros(out_channels),
        }
        self.grads = {}

    def forward(self, x):
        K, s, p = self.kernel_size, self.stride, self.padding
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p)))
        L_out = (self.xp.shape[2] - K) // s + 1
        self.index = s * np.arange(L_out)[:, None] + np.arange(K)[None, :]
        windows = self.xp[:, :, self.index]  # (N, C_in, L_out, K)
        return np.einsum("nclk,ock->nol", windows, self.params["W"]) + self.params["b"][:, None]

    def backward(self, dy):
        windows = self.xp[:, :, self.index]
        self.grads["W"] = np.einsum("nclk,nol->ock", windows, dy)
        self.grads["b"] = dy.sum(axis=(0, 2))
        dwindows = np.einsum("nol,ock->nclk", dy, self.params["W"])
        dxp = np.zeros_like(self.xp)
        for k in range(self.kernel_size):
            np.add.at(dxp, (slice(None), slice(None), self.index[:, k]), dwindows[..., k])
        return dxp[:, :, self.padding : dxp.shape[2] - self.padding]
