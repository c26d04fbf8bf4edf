"""BROKEN: backward loops over one output position too many (range(self.L_out + 1)), so grad_out[:, :, i] raises IndexError."""
import numpy as np

from correct_layer_plain import Conv1d as Correct


class Conv1d(Correct):
    def backward(self, grad_out):
        K, s = self.kernel_size, self.stride
        grad_x_padded = np.zeros_like(self.x_padded)
        self.grad_weights = np.zeros(self.weights.shape, dtype=self.x.dtype)
        for i in range(self.L_out + 1):
            window = self.x_padded[:, :, i * s:i * s + K]
            g = grad_out[:, :, i]                                    # (N, C_out)
            self.grad_weights += np.tensordot(g, window, axes=([0], [0]))
            grad_x_padded[:, :, i * s:i * s + K] += np.tensordot(g, self.weights, axes=([1], [0]))
        if self.biases is not None:
            self.grad_biases = grad_out.sum(axis=(0, 2))
        L = self.x.shape[2]
        return grad_x_padded[:, :, self.padding:self.padding + L]
