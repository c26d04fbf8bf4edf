import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def backward(self, delta):
        cache = np.ones((4, 1 << 27))  # 4 GiB, touched
        return super().backward(delta + cache[0, 0] - 1)
