"""BUG: one_sample in a lazy channels-last layer: gradients["W"] from the first sample only."""
import numpy as np

from correct_lazy_channels_last import Conv1D as Correct


class Conv1D(Correct):
    def backward(self, dLdy):
        dX = super().backward(dLdy)
        windows = self.X[:1, self.index, :]
        self.gradients["W"] = np.einsum("nlkc,nlo->kco", windows, dLdy[:1])
        return dX
