# A from-scratch library's Conv1d with plain-array parameters (weights,
# biases) and gradients (grad_weights, grad_biases). Loops over output
# positions, tensordot over batch and channels. Supports stride, zero
# padding and bias=False.
import numpy as np


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        scale = np.sqrt(1.0 / (in_channels * kernel_size))
        self.weights = np.random.uniform(-scale, scale, (out_channels, in_channels, kernel_size))
        self.biases = np.random.uniform(-scale, scale, out_channels) if bias else None
        self.grad_weights = np.zeros_like(self.weights)
        self.grad_biases = np.zeros_like(self.biases) if bias else None

    def forward(self, x):
        self.x = x
        self.x_padded = np.pad(x, ((0, 0), (0, 0), (self.padding, self.padding)))
        N = x.shape[0]
        K, s = self.kernel_size, self.stride
        self.L_out = (self.x_padded.shape[2] - K) // s + 1
        out = np.zeros((N, self.out_channels, self.L_out), dtype=x.dtype)
        for i in range(self.L_out):
            window = self.x_padded[:, :, i * s:i * s + K]          # (N, C_in, K)
            out[:, :, i] = np.tensordot(window, self.weights, axes=([1, 2], [1, 2]))
        if self.biases is not None:
            out += self.biases[None, :, None]
        return out

    def backward(self, grad_out):
        K, s = self.kernel_size, self.stride
        grad_x_padded = np.zeros_like(self.x_padded)
        self.grad_weights = np.zeros(self.weights.shape, dtype=self.x.dtype)
        for i in range(self.L_out):
            window = self.x_padded[:, :, i * s:i * s + K]
            g = grad_out[:, :, i]                                    # (N, C_out)
            self.grad_weights += np.tensordot(g, window, axes=([0], [0]))
            grad_x_padded[:, :, i * s:i * s + K] += np.tensordot(g, self.weights, axes=([1], [0]))
        if self.biases is not None:
            self.grad_biases = grad_out.sum(axis=(0, 2))
        L = self.x.shape[2]
        return grad_x_padded[:, :, self.padding:self.padding + L]
