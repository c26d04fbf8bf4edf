"""BROKEN: backward never computes the weight gradient, so self.dW stays None (y, dX and db are right)."""
from correct_mytorch_v1 import Conv1D as Correct


class Conv1D(Correct):
    def __init__(self, in_channel, out_channel, kernel_size, stride,
                 weight_init_fn=None, bias_init_fn=None):
        super().__init__(in_channel, out_channel, kernel_size, stride,
                         weight_init_fn, bias_init_fn)
        self.dW = None

    def backward(self, delta):
        dW = self.dW
        dx = super().backward(delta)
        self.dW = dW  # the base's dW is dropped: backward leaves self.dW as it was
        return dx
