"""BUG: off_by_one_length. The output length is computed as (L - K)//stride without the + 1, so y has one position too few, and backward, looping over that same length, drops the last column of delta from dX, dW and db."""
from correct_notebook_seed import Conv1D as Correct


class Conv1D(Correct):
    def __call__(self, data):
        super().__call__(data)
        # the bug: no + 1; backward loops over the same self.out_width
        self.out_width = ((self.in_width-self.kernal_size)//self.stride)
        self.fprop = self.fprop[:, :, :self.out_width].copy()
        return self.fprop
