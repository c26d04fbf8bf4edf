"""BUG: bias_forgotten. Forward never adds the biases, so y is off by b[c] on every channel; dX, dW and db (grad_biases) are right."""
from correct_layer_plain import Conv1d as Correct


class Conv1d(Correct):
    def forward(self, x):
        biases, self.biases = self.biases, None  # the bug: out += self.biases is missing
        try:
            return super().forward(x)
        finally:
            self.biases = biases
