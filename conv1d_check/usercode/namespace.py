"""A PID namespace for a layer's worker, where the machine allows one: every process the layer
starts, in whatever session, dies with the worker, and the worker dies with the tool.

The worker runs as PID 1 of a namespace of its own (util-linux's `unshare`, in a user
namespace so that no privilege is needed); when PID 1 ends, the kernel kills everything else
in the namespace. `setpriv --pdeathsig KILL` ends `unshare` when the tool is gone, killed or
not, and `--kill-child` ends the worker with it. Where namespaces are not allowed (no
`unshare`, user namespaces switched off, a seccomp profile that refuses them), the worker runs
as a plain process in a session of its own: its process group, and the reaper and subreaper of
`worker.py`, end what the layer starts, but a process that leaves the session and then the
worker's care (a double fork into a new session) can outlive a timed-out case.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

UNSHARE = ("unshare", "--user", "--map-current-user", "--pid", "--fork", "--kill-child")


def contained(argv: list[str]) -> list[str]:
    """`argv`, run as PID 1 of a PID namespace of its own where this machine allows it."""
    if not available():
        return argv
    return ["setpriv", "--pdeathsig", "KILL", "--", *UNSHARE, "--", *argv]


@cache
def available() -> bool:
    """Whether `unshare` can make a PID namespace here (asked once, by trying it)."""
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    try:
        done = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0
