"""Run a user's layer in a child process of its own: a timeout, a memory limit, bounded
captured output, and nothing of it outlives the tool.

One worker process per layer (`worker.py`) loads the layer once and serves case after case,
each with a fresh instance. It is replaced when it dies, hangs past the timeout or runs out of
memory. What it prints is read as it comes and kept up to OUTPUT_LIMIT bytes a case; the rest
is counted. An exception, a hang or a death is an "error" LayerRun, never an exception here.

Workers live until `close_all` (called at the end of a sweep, and at exit), or until the tool
dies: each watches a pipe that only the tool holds open, and the kernel's parent-death signal.
"""

from __future__ import annotations

import atexit
import os
import selectors
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

from .limits import format_bytes
from .protocol import MEASURE, RUN, Job, LayerRun, RunStatus, Tensors

OUTPUT_LIMIT = 1 << 20  # bytes of a case's printed output that are kept
POLL = 1.0  # seconds between looks at the clock while waiting (select's limit is finite)
MESSAGE, TIMEOUT, DIED = "message", "timeout", "died"  # what waiting for the worker gave
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


class Capture:
    """A case's printed output: the first OUTPUT_LIMIT bytes kept, the rest counted."""

    def __init__(self) -> None:
        self.kept = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = OUTPUT_LIMIT - len(self.kept)
        self.kept += data[:room]
        self.dropped += max(0, len(data) - room)

    def text(self) -> str:
        text = self.kept.decode(errors="replace")
        if self.dropped:
            text += f"\n[... {format_bytes(self.dropped)} more output not kept]"
        return text


class LayerProcess:
    """One worker process for one layer, and the pipes to it."""

    def __init__(self, memory: int):
        self.memory = memory
        self.convention: str | None = None  # as the worker last detected it
        requests_r, requests_w = os.pipe()
        results_r, results_w = os.pipe()
        output_r, output_w = os.pipe()
        lifeline_r, self.lifeline = os.pipe()  # the worker reads EOF when we are gone
        fds = (requests_r, results_w, lifeline_r)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "conv1d_check.usercode.worker", *map(str, fds), str(memory)],
            stdin=subprocess.DEVNULL,
            stdout=output_w,
            stderr=output_w,
            pass_fds=fds,
            start_new_session=True,  # its own process group: killed as a whole
            env=os.environ | ONE_THREAD,
        )
        for fd in (*fds, output_w):
            os.close(fd)
        self.requests = Connection(requests_w, readable=False)
        self.results = Connection(results_r, writable=False)
        self.output = output_r
        os.set_blocking(self.output, False)
        pidfd_open = getattr(os, "pidfd_open", None)  # Linux: readable once the worker exits
        self.exited = pidfd_open(self.process.pid) if pidfd_open else None

    def run(self, job: Job, tensors: Tensors, timeout: float) -> LayerRun:
        """Send one case and wait for its run, within `timeout` seconds of now."""
        start = time.monotonic()
        capture = Capture()
        try:
            self.requests.send((RUN, job, tensors))
        except OSError:  # the worker is gone (it ends itself after a MemoryError)
            return self.death(capture, job)
        outcome, run = self.receive(capture, start + timeout)
        if outcome == TIMEOUT:
            return self.death(capture, job, timeout=timeout)
        if outcome == DIED or not isinstance(run, LayerRun):
            return self.death(capture, job)
        self.drain(capture)
        run.printed = capture.text()
        self.convention = run.convention
        if run.status == RunStatus.OK:  # the second pass: its output is not the case's
            elapsed = time.monotonic() - start
            ends = time.monotonic() + min(timeout, 2 * elapsed + 1)
            outcome, note = self.receive(Capture(), ends)
            if outcome == TIMEOUT:
                self.stop()
            elif isinstance(note, str):
                run.notes.append(note)
        return run

    def measure(self, job: Job, tensors: Tensors, timeout: float) -> dict | str:
        """The consistency check's measurements (consistency.measure), or why there are none."""
        try:
            self.requests.send((MEASURE, job, tensors))
        except OSError:
            return "the layer's process is gone"
        outcome, found = self.receive(Capture(), time.monotonic() + timeout)
        if outcome == TIMEOUT:
            self.stop()
            return f"timed out after {timeout:g} s"
        return found if outcome == MESSAGE else "the layer's process died"

    def receive(self, capture: Capture, deadline: float) -> tuple[str, object]:
        """(MESSAGE, the next message), (TIMEOUT, None) or (DIED, None); output is read into
        `capture` meanwhile."""
        with selectors.DefaultSelector() as selector:
            selector.register(self.results.fileno(), selectors.EVENT_READ, MESSAGE)
            selector.register(self.output, selectors.EVENT_READ, "output")
            if self.exited is not None:
                selector.register(self.exited, selectors.EVENT_READ, DIED)
            while (left := deadline - time.monotonic()) > 0:
                for key, _ in selector.select(min(left, POLL)):
                    if key.data == "output":
                        self.drain(capture)
                    elif key.data == MESSAGE or self.results.poll():
                        try:
                            return MESSAGE, self.results.recv()
                        except (EOFError, OSError):
                            return DIED, None
                    else:  # exited with nothing left to read: a helper may hold the pipe
                        return DIED, None
        return TIMEOUT, None

    def drain(self, capture: Capture) -> None:
        with suppress(BlockingIOError, OSError):
            while data := os.read(self.output, 1 << 16):
                capture.add(data)

    def death(self, capture: Capture, job: Job, timeout: float | None = None) -> LayerRun:
        """The worker hung or died: end it, and say what happened."""
        self.stop()
        self.drain(capture)
        if timeout is not None:
            message = (
                f"timed out after {timeout:g} s (a hang, or a slow layer: --timeout raises "
                "the limit)"
            )
        else:
            message = _death(self.process.returncode, self.memory)
        return LayerRun(
            status=RunStatus.ERROR,
            convention=job.convention or self.convention or "unknown",
            message=message,
            printed=capture.text(),
        )

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """End the worker and everything it started: the process group, killed."""
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        self.stop()
        for connection in (self.requests, self.results):
            connection.close()
        for fd in (self.output, self.lifeline, self.exited):
            if fd is not None:
                os.close(fd)


def _death(exitcode: int | None, memory: int) -> str:
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = ""
        if -exitcode == signal.SIGKILL:
            hint = f" (out of memory? the layer may use {format_bytes(memory)}: --memory-limit)"
        return f"the layer's process was killed by {name}{hint}"
    return f"the layer's process exited with code {exitcode} before it was done"


_workers: dict[tuple[str, str | None, int, tuple], LayerProcess] = {}


def run_isolated(job: Job, tensors: Tensors, timeout: float, memory: int) -> LayerRun:
    """Run `job` in the layer's worker process (started, or replaced, as needed)."""
    job = replace(job, impl=_absolute(job.impl))
    worker = _worker(job, memory)
    run = worker.run(job, tensors, timeout)
    _retire_the_dead()
    return run


def _worker(job: Job, memory: int) -> LayerProcess:
    """The worker of `job`'s layer: started, or replaced when it died or its file changed."""
    key = (job.impl, job.convention, memory, _fingerprint(job.impl))
    worker = _workers.get(key)
    if worker is None or not worker.alive:
        _retire(key)
        worker = _workers[key] = LayerProcess(memory)
    return worker


def measure_isolated(job: Job, tensors: Tensors, timeout: float, memory: int) -> dict | str:
    """The consistency check's measurements of `job`'s layer, in its worker process."""
    worker = _worker(replace(job, impl=_absolute(job.impl)), memory)
    found = worker.measure(replace(job, impl=_absolute(job.impl)), tensors, timeout)
    _retire_the_dead()
    return found


def _retire(key: tuple) -> None:
    worker = _workers.pop(key, None)
    if worker is not None:
        worker.close()


def _retire_the_dead() -> None:
    for key in [key for key, worker in _workers.items() if not worker.alive]:
        _retire(key)


def close_all() -> None:
    """End every worker (and what its layer started)."""
    for key in list(_workers):
        _retire(key)


atexit.register(close_all)


def _absolute(impl: str) -> str:
    """A file path made absolute, so the worker finds it whatever its working directory."""
    target, colon, name = impl.partition(":")
    return str(Path(target).resolve()) + colon + name if target.endswith(".py") else impl


def _fingerprint(impl: str) -> tuple:
    """The layer file's size and time: an edited file gets a new worker."""
    target = impl.partition(":")[0]
    with suppress(OSError):
        if target.endswith(".py"):
            stat = os.stat(target)
            return stat.st_size, stat.st_mtime_ns
    return ()
