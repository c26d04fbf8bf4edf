"""On kernel_size 2, starts a thread that prints for ever, then runs correctly."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


def chatter():
    while True:
        print("leaked", flush=True)
        time.sleep(0.01)


class Conv1D(Correct):
    def __call__(self, x):
        if self.kernel_size == 2:
            threading.Thread(target=chatter, daemon=True).start()
        return super().__call__(x)
