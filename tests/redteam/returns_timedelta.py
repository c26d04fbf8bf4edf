"""Returns y as a timedelta64 array (numpy counts it among the integers)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def __call__(self, x):
        return super().__call__(x).astype("m8[ns]")
