import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def backward(self, delta):
        with open(__file__, "a") as me:  # a student saving the file mid-sweep, half typed
            me.write("\ndef broken(:\n")
        return super().backward(delta)
