"""BUG: overlap_overwrite. Backward writes each window's contribution into dx with = instead of +=, so where windows overlap (kernel_size > stride) only the last window's contribution survives in dX; y, dW and db are right."""
import numpy as np

from correct_mytorch_v1 import Conv1D as Correct


class Conv1D(Correct):
    def backward(self, delta):
        super().backward(delta)  # self.dW and self.db
        dx = np.zeros(self.x.shape, dtype=self.x.dtype)
        for i in range(delta.shape[2]):
            start = i * self.stride
            dx[:, :, start:start + self.kernel_size] = np.tensordot(delta[:, :, i], self.W, axes=([1], [0]))
        return dx
