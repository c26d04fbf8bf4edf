"""Run a user's layer in a child process of its own: a timeout, a memory limit, bounded
captured output, and nothing of it outlives the tool.

One worker process per layer file (`worker.py`) loads the layer once and serves case after
case, each with a fresh instance; the classes of one file share it. It is replaced when it
dies, hangs past the timeout or runs out of memory. What it prints is read as it comes and
kept up to OUTPUT_LIMIT bytes a case; the rest is counted. An exception, a hang or a death is
an "error" LayerRun, never an exception here.

Each request gets one reply, read as data (`wire.py`): what the layer's process writes is never
executed, and bytes that are not a reply make the case an error. The worker runs as PID 1 of a
PID namespace of its own where the machine allows it (`namespace.py`), so that everything the
layer starts ends with it; it gets the tool's environment less its secrets (`environment.py`).

Workers (one per thread and layer) live until `close_all` (called at the end of a sweep, and at
exit), or until the tool dies: the kernel's parent-death signal, and a pipe that only the tool
holds open.
"""

from __future__ import annotations

import atexit
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import asdict, replace
from enum import Enum
from pathlib import Path

from . import wire
from .environment import layer_environment
from .limits import format_bytes
from .namespace import contained
from .protocol import (
    AGAIN,
    MEASURE,
    RUN,
    Job,
    LayerRun,
    Malformed,
    RunStatus,
    Tensors,
    measurements_valid,
    run_from_plain,
)

OUTPUT_LIMIT = 1 << 20  # bytes of a case's printed output that are kept
POLL = 1.0  # seconds between looks at the clock while waiting (select's limit is finite)


class Outcome(Enum):
    """What waiting for the worker's reply gave."""

    REPLY = "reply"
    MALFORMED = "malformed"  # bytes that are not a reply: the layer wrote to the pipe
    TIMEOUT = "timeout"
    DIED = "died"


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
        self.fingerprint: tuple = ()  # of the layer's file when the worker loaded it
        requests_r, requests_w = os.pipe()
        results_r, results_w = os.pipe()
        output_r, output_w = os.pipe()
        lifeline_r, self.lifeline = os.pipe()  # the worker reads EOF when we are gone
        fds = (requests_r, results_w, lifeline_r)
        self.process = subprocess.Popen(
            contained(
                [sys.executable, "-m", "conv1d_check.usercode.worker", *map(str, fds), str(memory)]
            ),
            stdin=subprocess.DEVNULL,
            stdout=output_w,
            stderr=output_w,
            pass_fds=fds,
            start_new_session=True,  # its own process group: killed as a whole
            env=layer_environment(),  # the tool's, less its secrets
        )
        for fd in (*fds, output_w):
            os.close(fd)
        self.requests, self.results, self.output = requests_w, results_r, output_r
        self.exited = None
        try:
            os.set_blocking(self.results, False)
            os.set_blocking(self.output, False)
            pidfd_open = getattr(os, "pidfd_open", None)  # Linux: readable once it exits
            self.exited = pidfd_open(self.process.pid) if pidfd_open else None
        except OSError:  # out of file descriptors: the worker started is ended, not left
            self.close()
            raise

    def run(self, job: Job, tensors: Tensors, timeout: float) -> LayerRun:
        """Send one case and wait for its run, within `timeout` seconds of now; then run the
        same instance again, to tell whether its gradients accumulate (that output is not the
        case's)."""
        capture = Capture()
        outcome, reply = self.ask(
            {"kind": RUN, "job": asdict(job), "tensors": tensors}, capture, timeout
        )
        if outcome == Outcome.REPLY:
            try:
                run = run_from_plain(reply)
            except Malformed as error:
                outcome, reply = Outcome.MALFORMED, str(error)
        if outcome != Outcome.REPLY:
            return self.death(capture, job, outcome, timeout, reply)
        run.printed = capture.text()
        self.convention = run.convention
        if run.status == RunStatus.OK:
            outcome, note = self.ask({"kind": AGAIN}, Capture(), timeout)
            if outcome != Outcome.REPLY:
                self.stop()
            elif isinstance(note, str):
                run.notes.append(note)
        return run

    def measure(self, job: Job, tensors: Tensors, timeout: float) -> object:
        """The consistency check's measurements (consistency.measure), or why there are none."""
        request = {"kind": MEASURE, "job": asdict(job), "tensors": tensors}
        outcome, found = self.ask(request, Capture(), timeout)
        if outcome != Outcome.REPLY:
            self.stop()
        if outcome == Outcome.TIMEOUT:
            return f"timed out after {timeout:g} s"
        if outcome == Outcome.REPLY and measurements_valid(found):
            return found
        return "the layer's process died" if outcome == Outcome.DIED else "a malformed reply"

    def ask(self, request: dict, capture: Capture, timeout: float) -> tuple[Outcome, object]:
        """Send `request` and wait up to `timeout` seconds for its one reply: (REPLY, it),
        (MALFORMED, what was wrong), (TIMEOUT, None) or (DIED, None). The worker's output is
        read into `capture` meanwhile."""
        deadline = time.monotonic() + timeout
        try:
            wire.send(self.requests, request)
        except OSError:  # the worker is gone (it ends itself after a MemoryError)
            return Outcome.DIED, None
        incoming = wire.Incoming(limit=self.memory)
        with selectors.DefaultSelector() as selector:
            selector.register(self.results, selectors.EVENT_READ, Outcome.REPLY)
            selector.register(self.output, selectors.EVENT_READ, "output")
            if self.exited is not None:
                selector.register(self.exited, selectors.EVENT_READ, Outcome.DIED)
            while (left := deadline - time.monotonic()) > 0:
                for key, _ in selector.select(min(left, POLL)):
                    if key.data == "output":
                        self.drain(capture)
                        continue
                    ended = not self.read_results(incoming) or key.data == Outcome.DIED
                    try:
                        done, reply = incoming.message()
                    except Malformed as error:
                        return Outcome.MALFORMED, str(error)
                    if done and incoming.buffer:
                        return Outcome.MALFORMED, "more than one reply"
                    if done:  # the worker flushed its output before replying: all there
                        self.drain(capture)
                        return Outcome.REPLY, reply
                    if ended:  # exited, or closed the pipe, with no whole reply
                        return Outcome.DIED, None
        return Outcome.TIMEOUT, None

    def read_results(self, incoming: wire.Incoming) -> bool:
        """Read what the results pipe holds into `incoming`; False at its end."""
        try:
            while data := os.read(self.results, 1 << 20):
                incoming.buffer += data
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def drain(self, capture: Capture) -> None:
        with suppress(BlockingIOError, OSError):
            while data := os.read(self.output, 1 << 16):
                capture.add(data)

    def death(
        self, capture: Capture, job: Job, outcome: Outcome, timeout: float, why: object
    ) -> LayerRun:
        """The worker hung, died or wrote what is not a reply: end it, and say what happened."""
        self.stop()
        self.drain(capture)
        if outcome == Outcome.TIMEOUT:
            message = (
                f"timed out after {timeout:g} s (a hang, or a slow layer: --timeout raises "
                "the limit)"
            )
        elif outcome == Outcome.MALFORMED:
            message = f"the layer's process wrote to the tool's pipe what is not a reply ({why})"
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
        for fd in (self.requests, self.results, self.output, self.lifeline, self.exited):
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


# A worker per thread as well as per layer file: threads of the API check side by side, and a
# worker dies with the thread that started it (its parent-death signal is the thread's). The
# classes of one file share its worker, which imports the file once, whatever their convention;
# a case's run and its consistency measurement go to the same one.
_workers: dict[tuple[int, str, int], LayerProcess] = {}


def run_isolated(job: Job, tensors: Tensors, timeout: float, memory: int) -> LayerRun:
    """Run `job` in the layer's worker process (started, or replaced, as needed)."""
    job = replace(job, impl=_absolute(job.impl))
    worker = _worker(job, memory)
    run = worker.run(job, tensors, timeout)
    _retire_the_dead()
    return run


def _worker(job: Job, memory: int) -> LayerProcess:
    """The worker of `job`'s layer file: started, or replaced when it died or the file changed."""
    key = (threading.get_ident(), job.impl.partition(":")[0], memory)
    worker = _workers.get(key)
    fingerprint = _fingerprint(job.impl)
    if worker is None or not worker.alive or worker.fingerprint != fingerprint:
        _retire(key)
        worker = _workers[key] = LayerProcess(memory)
        worker.fingerprint = fingerprint
    return worker


def measure_isolated(job: Job, tensors: Tensors, timeout: float, memory: int) -> object:
    """The consistency check's measurements of `job`'s layer, in its worker process."""
    job = replace(job, impl=_absolute(job.impl))
    worker = _worker(job, memory)
    found = worker.measure(job, tensors, timeout)
    _retire_the_dead()
    return found


def _retire(key: tuple) -> None:
    worker = _workers.pop(key, None)
    if worker is not None:
        worker.close()


def _retire_the_dead() -> None:
    for key in [key for key, worker in list(_workers.items()) if not worker.alive]:
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
