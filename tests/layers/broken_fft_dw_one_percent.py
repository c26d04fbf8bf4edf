"""correct_fft's layer with dW 1% too large: a bug the norm-wise rule must still fail."""
from correct_fft import Conv1d as Correct


class Conv1d(Correct):
    def backward(self, dy):
        dx = super().backward(dy)
        self.grad_weights = self.grad_weights * self.grad_weights.dtype.type(1.01)
        return dx
