import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def __call__(self, x):
        line = "flood " * 2000 + "\n"
        while True:
            sys.stdout.write(line)
