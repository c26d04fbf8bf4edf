"""BUG: stride_ignored_backward. Forward is right for any stride, but backward indexes the input at i + k instead of stride*i + k, both when scattering dX and when accumulating dW, so dX and dW are wrong whenever stride > 1 (y and db are right)."""
from correct_notebook_seed import Conv1D as Correct


class Conv1D(Correct):
    def backward(self, delta):
        stride, self.stride = self.stride, 1  # the bug: x[n, j, i+k], not x[n, j, stride*i + k]
        try:
            return super().backward(delta)
        finally:
            self.stride = stride
