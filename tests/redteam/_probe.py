"""Helpers of the red-team layers: where to report pids, as the test (outside the worker's PID
namespace, where there is one) sees them."""
import glob
import os


def report(*pids):
    path = os.environ.get("CONV1D_CHECK_PROBE")
    if path:
        with open(path, "a") as stream:
            stream.write(" ".join(str(host_pid(pid)) for pid in pids) + "\n")


def host_pid(pid):
    """`pid` (as this process sees it) as /proc sees it: /proc is the tool's."""
    ours = os.readlink("/proc/self/ns/pid")
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            with open(status) as stream:
                nspid = next(line for line in stream if line.startswith("NSpid:")).split()
            same = os.readlink(status.replace("status", "ns/pid")) == ours
        except (OSError, StopIteration):
            continue
        if same and int(nspid[-1]) == pid:
            return int(nspid[1])
    return pid
