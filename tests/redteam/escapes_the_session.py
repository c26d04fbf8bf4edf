import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers"))
from _probe import report  # noqa: E402
from correct_vectorised_im2col import Conv1D as Correct  # noqa: E402


class Conv1D(Correct):
    def __call__(self, x):
        child = subprocess.Popen(["sleep", "417"], start_new_session=True)
        orphan = subprocess.run(  # a grandchild in a session of its own, its parent gone
            ["sh", "-c", "setsid sleep 418 >/dev/null 2>&1 & echo $!"],
            capture_output=True,
            text=True,
        ).stdout
        report(child.pid, int(orphan))
        time.sleep(1000)
