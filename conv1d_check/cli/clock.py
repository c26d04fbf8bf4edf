"""The wall time of the command: seconds since this process started, as the kernel counts
them, so that the interpreter's start and the imports are in it (a one-case check spends most
of its time there)."""

from __future__ import annotations

import os
import time
from pathlib import Path

_IMPORTED = time.monotonic()  # where the kernel's count is not to be had


def since_start() -> float:
    """Seconds since this process started: its start time in /proc/self/stat (field 22, in
    clock ticks since boot) against the boot clock; else since this module was imported."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[22 - 3]) / os.sysconf("SC_CLK_TCK")  # fields after "pid (name)"
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED
