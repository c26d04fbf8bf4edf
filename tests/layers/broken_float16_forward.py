"""BUG: float16_forward. Forward computes in float16 (x and the weights cast down, to save memory) and casts y back to the input's dtype; backward is right. y is right to about 11 bits only."""
import numpy as np

from correct_layer_plain import Conv1d as Correct


class Conv1d(Correct):
    def forward(self, x):
        weights, biases = self.weights, self.biases
        self.weights = weights.astype(np.float16)
        self.biases = None if biases is None else biases.astype(np.float16)
        try:
            out = super().forward(x.astype(np.float16))
        finally:
            self.weights, self.biases = weights, biases
        self.x, self.x_padded = x, np.pad(x, ((0, 0), (0, 0), (self.padding, self.padding)))
        return out.astype(x.dtype)
