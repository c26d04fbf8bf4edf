# A correct layer that saves memory by reusing buffers: backward writes dX into the array forward
# returned as y when they have the same size, and zeroes dy (its input) when done with it.
# conv1d-check judges what each call returned, when it returned it, and says so in notes.
import numpy as np

from correct_layer_plain import Conv1d as Base


class Conv1d(Base):
    def forward(self, x):
        self.y = super().forward(x)
        return self.y

    def backward(self, grad_out):
        grad_x = super().backward(grad_out)
        self.y[...] = 0  # the buffer is free again
        grad_out[...] = 0
        return grad_x
