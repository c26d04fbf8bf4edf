"""BUG: float32_compute, in a layer that stores its bias as a column: the from-scratch library computes everything in float32 and returns float32. Its column bias must not hide this real defect."""
import numpy as np

from correct_column_storage import Conv1d as Correct


class Conv1d(Correct):
    def forward(self, x):
        self.W, self.b = self.W.astype(np.float32), self.b.astype(np.float32)
        return super().forward(x.astype(np.float32))

    def backward(self, dout):
        return super().backward(dout.astype(np.float32))
