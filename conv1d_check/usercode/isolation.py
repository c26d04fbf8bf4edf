"""Run a user's layer in a child process: a timeout, captured output, and no crash of ours.

The child (`worker.serve`) imports the layer, drives it and sends back messages over a pipe.
Whatever the layer prints goes to a file, read back by the parent, even after a crash. An
exception, a hang or a dead process becomes an "error" LayerRun.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import time
from dataclasses import replace
from functools import cache
from pathlib import Path

from .protocol import Job, LayerRun, RunStatus, Tensors
from .worker import serve

OUTPUT_LIMIT = 20_000  # characters of the layer's printed output that are kept


@cache
def _context() -> multiprocessing.context.BaseContext:
    """forkserver: each child forks from a clean server that has numpy imported (fast, and
    safe beside torch's threads); spawn where forkserver does not exist."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["numpy", "conv1d_check.usercode.worker"])
    return context


def run_isolated(job: Job, tensors: Tensors, timeout: float) -> LayerRun:
    """Run `job` in a child process, within `timeout` seconds."""
    fd, output_path = tempfile.mkstemp(prefix="conv1d-check-", suffix=".out")
    os.close(fd)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=serve,
        args=(sender, replace(job, impl=_absolute(job.impl)), tensors, output_path),
        name="conv1d-check-layer",
    )
    start = time.monotonic()
    child.start()
    sender.close()
    try:
        convention, run = _collect(receiver, job, timeout, start)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
        printed = _read_output(output_path)
    if run is None:
        run = LayerRun(
            status=RunStatus.ERROR, convention=convention, message=_death(child.exitcode)
        )
    run.printed = printed
    return run


def _collect(receiver, job: Job, timeout: float, start: float) -> tuple[str, LayerRun | None]:
    """Read the child's messages until its run arrives (None if the child died first)."""
    convention = job.convention or "unknown"
    deadline = start + timeout
    while True:
        message = _receive(receiver, deadline)
        if message is None:
            return convention, LayerRun(
                status=RunStatus.ERROR,
                convention=convention,
                message=f"timed out after {timeout:g} s (a hang, or a slow layer: "
                "--timeout raises the limit)",
            )
        if message == "died":
            return convention, None
        kind, value = message
        if kind == "convention":
            convention = value
        elif kind == "run":
            break
    run = value
    if run.status == RunStatus.OK:  # a second backward tells whether gradients accumulate
        elapsed = time.monotonic() - start
        note = _receive(receiver, time.monotonic() + min(timeout, 2 * elapsed + 1))
        if isinstance(note, tuple) and note[1]:
            run.notes.append(note[1])
    return convention, run


def _receive(receiver, deadline: float):
    """The next message, "died" if the pipe closed, None if the deadline passed."""
    if not receiver.poll(max(0.0, deadline - time.monotonic())):
        return None
    try:
        return receiver.recv()
    except (EOFError, OSError):
        return "died"


def _read_output(path: str) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    finally:
        os.unlink(path)
    if len(text) > OUTPUT_LIMIT:
        text = text[:OUTPUT_LIMIT] + f"\n[... {len(text) - OUTPUT_LIMIT} more characters]"
    return text


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"the layer's process was killed by {signal.Signals(-exitcode).name}"
    return f"the layer's process exited with code {exitcode} before it was done"


def _absolute(impl: str) -> str:
    """A file path made absolute, so the child finds it whatever its working directory."""
    target, colon, name = impl.partition(":")
    return str(Path(target).resolve()) + colon + name if target.endswith(".py") else impl
