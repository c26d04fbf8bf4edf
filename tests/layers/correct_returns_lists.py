# A correct layer that returns Python lists (y from forward, dX from backward), as code written
# without numpy's habits may. conv1d-check converts them, with a note.
from correct_layer_plain import Conv1d as Base


class Conv1d(Base):
    def forward(self, x):
        return super().forward(x).tolist()

    def backward(self, grad_out):
        return super().backward(grad_out).tolist()
