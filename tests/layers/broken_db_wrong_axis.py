"""BUG: db_wrong_axis. db is summed over the channel and position axes (1, 2) instead of the batch and position axes (0, 2), so db has shape (batch,) with per-sample totals instead of (out_channel,); y, dX and dW are right."""
import numpy as np

from correct_mytorch_v1 import Conv1D as Correct


class Conv1D(Correct):
    def backward(self, delta):
        dx = super().backward(delta)
        self.db = np.sum(delta, axis=(1, 2)).astype(self.x.dtype)
        return dx
