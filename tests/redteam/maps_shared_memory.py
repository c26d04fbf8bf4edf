"""Maps 1 GiB of shared anonymous memory (not counted by RLIMIT_DATA), then runs correctly."""
import mmap
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def __call__(self, x):
        self.hoard = mmap.mmap(-1, 1 << 30, flags=mmap.MAP_SHARED)
        return super().__call__(x)
