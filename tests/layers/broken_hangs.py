"""BROKEN: forward never returns: the while loop over output positions forgets to advance i, so it spins forever (the tool must time it out)."""
import numpy as np

from correct_notebook_seed import Conv1D as Correct


class Conv1D(Correct):
    def __call__(self, data):
        super().__call__(data)
        i = 0
        while i < self.out_width:  # the bug: i is never advanced
            window = self.data[:, :, (i*self.stride):((i*self.stride)+self.kernal_size)]
            self.fprop[:, :, i] = np.tensordot(window, self.W, axes=([1, 2], [1, 2])) + self.b
        return self.fprop
