"""Helpers of the red-team layers: where to report pids."""
import os


def report(*values):
    path = os.environ.get("CONV1D_CHECK_PROBE")
    if path:
        with open(path, "a") as stream:
            stream.write(" ".join(map(str, values)) + "\n")
