# A homework layer at its first milestone: forward is done and right, backward is not yet.
from correct_layer_plain import Conv1d as Base


class Conv1d(Base):
    def backward(self, grad_out):
        raise NotImplementedError("TODO: milestone 2")
