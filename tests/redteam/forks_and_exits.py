import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def backward(self, delta):
        if os.fork() == 0:  # a helper that outlives its parent, holding every pipe
            time.sleep(417)
        os._exit(0)
