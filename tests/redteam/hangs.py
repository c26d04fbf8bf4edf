import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from _probe import report  # noqa: E402
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def __call__(self, x):
        child = subprocess.Popen(["sleep", "417"])
        report(os.getpid(), child.pid)
        time.sleep(1000)
