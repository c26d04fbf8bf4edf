"""BUG: float32_compute. The layer computes in float32 to save memory (it casts x, the weights and grad_out down) and casts y, dX, dW and db back to float64, so all four are precise only to about 1e-7."""
from contextlib import contextmanager

import numpy as np

from correct_layer_plain import Conv1d as Correct


class Conv1d(Correct):
    def forward(self, x):
        with self._float32_parameters():
            out = super().forward(x.astype(np.float32))
        return out.astype(np.float64)

    def backward(self, grad_out):
        with self._float32_parameters():
            grad_x = super().backward(grad_out.astype(np.float32))
        if self.biases is not None:
            self.grad_biases = self.grad_biases.astype(np.float64)
        self.grad_weights = self.grad_weights.astype(np.float64)
        return grad_x.astype(np.float64)

    @contextmanager
    def _float32_parameters(self):
        """The weights and biases cast down to float32 while the base computes."""
        weights, biases = self.weights, self.biases
        self.weights = weights.astype(np.float32)
        if biases is not None:
            self.biases = biases.astype(np.float32)
        try:
            yield
        finally:
            self.weights, self.biases = weights, biases
