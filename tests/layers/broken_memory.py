"""BUG: memory. Backward allocates a buffer the size of N * C_out * L_out squared (a dense Jacobian), which no machine has: numpy raises MemoryError inside np.zeros, named at this file's line."""
import numpy as np

from correct_vectorised_im2col import Conv1D as Correct


class Conv1D(Correct):
    def backward(self, delta):
        jacobian = np.zeros((delta.size * 10**6, delta.size * 10**6))
        return jacobian
