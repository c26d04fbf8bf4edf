"""The child process that runs a user's layer, case after case: `python -m
conv1d_check.usercode.worker REQUESTS RESULTS LIFELINE MEMORY`.

It loads the layer once, then serves requests from the REQUESTS pipe, each answered by one
reply on RESULTS, as data (`wire.py`): RUN (a Job and its tensors), a case, answered with its
LayerRun; AGAIN, the last case's instance run a second time, answered with a note on whether its
gradients accumulate (or None); MEASURE (a Job and its tensors), the consistency check's
measurements for a failed case. The layer runs in this process and can write to RESULTS too:
the tool executes nothing it reads, and a reply that is not well formed is the case's error.

It runs in a session of its own, and is the subreaper of whatever the layer starts: after each
case it kills the processes the layer left behind. When the tool is gone (the LIFELINE pipe,
which only the tool can write to, reads EOF), a reaper process kills the whole group, and the
kernel's parent-death signal kills the worker too. Its memory is limited to MEMORY bytes;
stdout and stderr go to a pipe the tool reads with a cap.
"""

from __future__ import annotations

import ctypes
import linecache
import os
import resource
import signal
import sys
import sysconfig
import threading
import time
import traceback
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np

from . import byvalue, consistency, discover, wire
from .conventions import CONVENTIONS, accumulation_note, detect
from .layout import TORCH, parse
from .protocol import (
    AGAIN,
    MEASURE,
    Job,
    LayerRun,
    RunStatus,
    Tensors,
    Unsupported,
    Unusable,
    job_from_plain,
    run_to_plain,
)

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36  # <linux/prctl.h>
REAPER = [0]  # the pid of this worker's reaper, once forked
# Frames from these folders are not the user's: ours, the standard library, installed packages.
# Each folder ends in a separator: a user's .../conv1d_check_x/ is not ours.
NOT_USERS = tuple(
    {os.path.join(str(Path(__file__).parents[1]), "")}
    | {os.path.join(sysconfig.get_paths()[key], "") for key in ("stdlib", "platlib", "purelib")}
    | {os.path.join(sysconfig.get_paths()["platstdlib"], ""), "<frozen "}
)
TEXT_LIMIT = 1 << 20  # characters of an exception's text that are kept
FRESH = "fresh"  # serve's word after a MemoryError: this process may be broken


def main(requests_fd: int, results_fd: int, lifeline_fd: int, memory: int) -> None:
    _guard(lifeline_fd, memory)
    loaded: dict[str, Any] = {}
    again = None  # the last case's (convention, instance), tensors and run, for AGAIN
    while (request := wire.receive(requests_fd, limit=memory)) is not None:
        fresh = False
        if request["kind"] == AGAIN:
            reply = _note(*again) if again else None
        elif request["kind"] == MEASURE:
            reply = _measure(job_from_plain(request["job"]), request["tensors"], loaded)
        else:
            tensors = request["tensors"]
            run, instance = serve(job_from_plain(request["job"]), tensors, loaded)
            again = (instance, tensors, run) if isinstance(instance, tuple) else None
            fresh = instance is FRESH or _threads_left(run)
            reply = run_to_plain(run)
        _flush()
        _send(results_fd, reply)
        _kill_descendants()
        if fresh:
            break  # after a MemoryError or with threads left, a fresh process for the next case
    _kill_descendants()


def _threads_left(run: LayerRun) -> bool:
    """Whether the layer left threads running (their output would be the next case's); if so,
    a note says the next case gets a fresh process."""
    left = threading.active_count() - 1
    if left:
        run.notes.append(
            f"the layer left {left} thread(s) running: the next case gets a fresh process"
        )
    return left > 0


def _send(fd: int, reply: Any) -> None:
    with suppress(BrokenPipeError):  # the tool is gone: the lifeline ends us
        wire.send(fd, reply)


def serve(job: Job, tensors: Tensors, loaded: dict[str, Any]) -> tuple[LayerRun, Any]:
    """Drive the layer on one case; also (convention, instance) for the second pass, FRESH
    after a MemoryError, or None."""
    convention = job.convention or "unknown"
    try:
        if job.impl not in loaded:
            loaded[job.impl] = _load(job)
        target = loaded[job.impl]
        convention = job.convention or detect(target)
        if job.forward_only:
            return _numbers_only(_forward_only(convention, target, job, tensors)), None
        driven = CONVENTIONS[convention].drive(target, job.spec, tensors, job.layout)
    except Unsupported as error:
        return LayerRun(status=RunStatus.SKIP, convention=convention, message=str(error)), None
    except Unusable as error:
        return LayerRun(status=RunStatus.ERROR, convention=convention, message=str(error)), None
    except BaseException as error:  # the layer's own bug, whatever it is
        run = LayerRun(
            status=RunStatus.ERROR,
            convention=convention,
            message=describe(error),
            traceback=frames(error),
        )
        if isinstance(error, MemoryError):
            return run, FRESH
        if not isinstance(error, Exception):  # interrupted or exiting: no second run
            return run, None
        return _numbers_only(
            _with_forward(run, convention, loaded.get(job.impl), job, tensors)
        ), None
    run = LayerRun(
        driven.tensors,
        convention=convention,
        notes=driven.notes,
        initial=driven.initial,
        unimplemented=driven.unimplemented,
        layout=str(driven.layout),
    )
    if (checked := _numbers_only(run)) is not run:
        return checked, None
    again = (convention, driven.layer, driven.layout)
    return run, again if driven.layer is not None else None


def _load(job: Job) -> Any:
    """The layer `job` names: unpickled when it came by value, else imported."""
    return byvalue.load(job.payload) if job.payload else discover.load(job.impl)


def _numbers_only(run: LayerRun) -> LayerRun:
    """`run`, or an error naming the tensor the layer gave that is no array of numbers (a
    timedelta, an object array), which the reply could not carry."""
    for name, array in (run.tensors | run.initial).items():
        if not wire.NUMBERS.fullmatch(array.dtype.str):
            message = f"{name}: the layer gave an array of {array.dtype}, not of numbers"
            return LayerRun(status=RunStatus.ERROR, convention=run.convention, message=message)
    return run


def _forward_only(convention: str, target: Any, job: Job, tensors: Tensors) -> LayerRun:
    """y from the layer's forward alone (--only y): its backward is never called. In the
    layout given (torch's when none is: forward alone finds none by measurement)."""
    layout = parse(job.layout) if job.layout else TORCH
    forward = CONVENTIONS[convention].forward_function(target, job.spec, tensors, layout)
    b = tensors.get("b", np.zeros(tensors["W"].shape[0], tensors["W"].dtype))
    return LayerRun({"y": forward(x=tensors["x"], W=tensors["W"], b=b)}, convention=convention)


# The layers loaded by run_here, by impl: a sweep in one process imports each file once.
LOADED: dict[str, Any] = {}


def run_here(job: Job, tensors: Tensors) -> LayerRun:
    """The layer run in this process (--no-isolation): no timeout, no memory limit, its
    output not captured; breakpoint() and pdb reach it."""
    return serve(job, tensors, LOADED)[0]


def measure_here(job: Job, tensors: Tensors) -> dict | str:
    """The consistency measurements, in this process."""
    return _measure(job, tensors, LOADED)


def _with_forward(
    run: LayerRun, convention: str, target: Any, job: Job, tensors: Tensors
) -> LayerRun:
    """An erring run with the y of the layer's forward alone, where that runs (the error was
    in backward): y is judged and shown beside the error."""
    if target is None or convention not in CONVENTIONS or job.forward_only:
        return run
    if run.message.startswith("MemoryError"):
        return run
    with suppress(BaseException):  # the forward raised too: the error is all there is
        run.tensors = _forward_only(convention, target, job, tensors).tensors
    return run


def _measure(job: Job, tensors: Tensors, loaded: dict[str, Any]) -> dict | str:
    """The consistency check's measurements, or why they could not be made."""
    try:
        target = loaded.get(job.impl) or _load(job)
        convention = job.convention or detect(target)
        return consistency.measure(target, convention, job.spec, tensors, job.layout)
    except BaseException as error:
        return describe(error)


def _note(instance: tuple[str, Any], tensors: Tensors, run: LayerRun) -> str | None:
    try:
        return accumulation_note(*instance, tensors, run.tensors)
    except BaseException:
        return None


def frames(error: BaseException) -> list[dict]:
    """The layer's own frames of `error`'s traceback, as Python prints them, innermost last:
    file, line, function (its qualified name: Conv1d.backward), the code line."""
    found = []
    for frame, line in traceback.walk_tb(error.__traceback__):
        code = frame.f_code
        if not code.co_filename.startswith(NOT_USERS):
            text = linecache.getline(code.co_filename, line).strip()
            found.append(
                {"file": code.co_filename, "line": line, "function": code.co_qualname, "code": text}
            )
    return found


def describe(error: BaseException) -> str:
    """`Type: message (file.py:line in function)`, at the innermost frame of the user's code:
    an error inside numpy names the user's line that called numpy."""
    text = _capped(str(error)).strip().splitlines()
    if isinstance(error, SyntaxError) and error.filename:
        name = Path(error.filename).name
        return f"{type(error).__name__}: {error.msg} ({name}:{error.lineno})"
    own = frames(error)
    where = ""
    if own:
        where = f" ({Path(own[-1]['file']).name}:{own[-1]['line']} in {own[-1]['function']})"
    return f"{type(error).__name__}: {text[0] if text else ''}{where}"


def _capped(text: str) -> str:
    """The first TEXT_LIMIT characters of `text`, the rest counted."""
    if len(text) <= TEXT_LIMIT:
        return text
    return text[:TEXT_LIMIT] + f" [... {len(text) - TEXT_LIMIT} more characters not kept]"


def _guard(lifeline_fd: int, memory: int) -> None:
    """Die with the tool and take the layer's processes along; stay within `memory` bytes.

    As PID 1 of a namespace of its own (`namespace.py`) there is nothing to do: the kernel
    ends the namespace with us, and us with the tool. Elsewhere a reaper, forked before any
    user code runs, waits on the lifeline: when the tool is gone it kills this whole process
    group, the layer's children with it. It needs no help from this process, which a layer
    may keep busy forever (even holding Python's lock, in C)."""
    if os.getpid() != 1:
        reaper = os.fork()
        if reaper == 0:
            _reap(lifeline_fd)
        REAPER[0] = reaper
        if sys.platform == "linux":
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            libc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        if os.getppid() == 1:  # the tool died before the signal was armed
            os.killpg(0, signal.SIGKILL)
    with suppress(ValueError, OSError):  # the address space: shared and mapped memory too
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _reap(lifeline_fd: int) -> None:
    """In the reaper: block until the tool is gone, then kill the process group (us too)."""
    with suppress(OSError):
        while os.read(lifeline_fd, 1):
            pass
    os.killpg(0, signal.SIGKILL)
    os._exit(0)


def _kill_descendants() -> None:
    """SIGKILL every process below this one (ours, or orphans we adopted) but the reaper,
    and reap them."""
    if os.getpid() == 1:  # PID 1 of our own namespace: every other process in it is the layer's
        with suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        with suppress(ChildProcessError):
            while True:
                os.waitpid(-1, 0)
        return  # /proc is the tool's: its pid 1 is not us
    deadline = time.monotonic() + 1
    while _descendants() and time.monotonic() < deadline:
        for pid in _descendants():
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        time.sleep(0.001)


def _descendants() -> list[int]:
    """The processes below this one but the reaper, from /proc (Linux; none elsewhere)."""
    pending, found = [os.getpid()], []
    while pending:
        for task in Path(f"/proc/{pending.pop()}/task").glob("*/children"):
            with suppress(OSError, ValueError):
                children = [int(c) for c in task.read_text().split() if int(c) != REAPER[0]]
                found += children
                pending += children
    return found


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a layer may have closed or replaced them
            stream.flush()


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:5]))
