"""BROKEN: the layer precomputes its im2col weight matrix (self._kernel, a copy of W) in __init__ and uses that copy in forward and for dX, so weights assigned to self.W after construction never take effect: y and dX are computed with the initial random weights (dW and db are right)."""
from contextlib import contextmanager

from correct_vectorised_im2col import Conv1D as Correct


class Conv1D(Correct):
    def __init__(self, in_channel, out_channel, kernel_size, stride):
        super().__init__(in_channel, out_channel, kernel_size, stride)
        # the weight matrix of the matrix product, computed once
        self._kernel = self.W.reshape(out_channel, in_channel * kernel_size).copy()

    def __call__(self, x):
        with self._initial_weights():
            return super().__call__(x)

    def backward(self, delta):
        with self._initial_weights():  # dcols from self._kernel; dW and db do not use W
            return super().backward(delta)

    @contextmanager
    def _initial_weights(self):
        """The bug: the products use self._kernel, whatever self.W is now."""
        W = self.W
        self.W = self._kernel.reshape(W.shape)
        try:
            yield
        finally:
            self.W = W
