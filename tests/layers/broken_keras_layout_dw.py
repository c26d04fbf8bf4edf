"""BUG: batch_mean in a Keras-layout layer: grad_kernel (K, C_in, C_out) is averaged over the batch instead of summed (and grad_bias with it). The layout must be found all the same, and the bug named."""
from correct_keras_layout import Conv1D as Correct


class Conv1D(Correct):
    def backward(self, dy):
        dx = super().backward(dy)
        self.grad_kernel = self.grad_kernel / dy.shape[0]
        return dx
