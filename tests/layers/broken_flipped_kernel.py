"""BUG: flipped_kernel. Forward multiplies each window by the kernel reversed along K (true convolution instead of cross-correlation) and backward is the matching gradient, so y, dX and dW are all "flipped" (dW comes out reversed along K); db is right."""
from contextlib import contextmanager

from correct_notebook_seed import Conv1D as Correct


class Conv1D(Correct):
    def __call__(self, data):
        with self._flipped_kernel():
            return super().__call__(data)

    def backward(self, delta):
        with self._flipped_kernel():
            super().backward(delta)
        self.dW = self.dW[:, :, ::-1].copy()  # the flipped kernel's gradient lands on W[c, j, K-1-k]
        return self.db, self.dW, self.dX

    @contextmanager
    def _flipped_kernel(self):
        """The bug: W[c][:, ::-1] where W[c] belongs (W[c, j, K-1-k] meets x[stride*i + k])."""
        W = self.W
        self.W = W[:, :, ::-1]
        try:
            yield
        finally:
            self.W = W
