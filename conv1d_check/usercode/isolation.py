"""Run a user's layer in a child process: a timeout, captured output, and no crash of ours.

The child imports the layer, drives it (impls.run_user_layer) and sends back
messages over a pipe: ("convention", name) once it knows it, ("run", LayerRun)
when forward and backward are done, then ("note", str | None) from a second
backward on the same instance (does the layer accumulate gradients?). Whatever
the layer prints goes to a file, read back by the parent, even after a crash.
An exception, a hang or a dead process becomes an "error" LayerRun.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
import time
import traceback
from contextlib import suppress
from dataclasses import replace
from functools import cache
from pathlib import Path

from ..check.case import Case
from . import conventions as impls
from .conventions import LayerRun, Tensors

OUTPUT_LIMIT = 20_000  # characters of the layer's printed output that are kept
PACKAGE = str(Path(__file__).parents[1])


@cache
def _context() -> multiprocessing.context.BaseContext:
    """forkserver: each child forks from a clean server that has numpy imported (fast, and
    safe beside torch's threads); spawn where forkserver does not exist."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["numpy", "conv1d_check.usercode.conventions"])
    return context


def run_isolated(case: Case, tensors: Tensors) -> LayerRun:
    """Run the case's user layer in a child process, within `case.timeout` seconds."""
    impl = _absolute(case.impl)
    fd, output_path = tempfile.mkstemp(prefix="conv1d-check-", suffix=".out")
    os.close(fd)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child,
        args=(sender, replace(case, impl=impl), tensors, output_path),
        name="conv1d-check-layer",
    )
    start = time.monotonic()
    child.start()
    sender.close()
    try:
        convention, run = _collect(receiver, case, start)
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
        output = _read_output(output_path)
    if run is None:
        run = LayerRun(status="error", convention=convention, message=_death(child.exitcode))
    run.output = output
    return run


def _collect(receiver, case: Case, start: float) -> tuple[str, LayerRun | None]:
    """Read the child's messages until its run arrives (None if the child died first)."""
    convention = case.convention or "unknown"
    deadline = start + case.timeout
    while True:
        message = _receive(receiver, deadline)
        if message is None:
            return convention, LayerRun(
                status="error",
                convention=convention,
                message=f"timed out after {case.timeout:g} s (a hang, or a slow layer: "
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
    if run.status == "ok":  # a second backward tells whether gradients accumulate
        elapsed = time.monotonic() - start
        note = _receive(receiver, time.monotonic() + min(case.timeout, 2 * elapsed + 1))
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


def _child(sender, case: Case, tensors: Tensors, output_path: str) -> None:
    """In the child process: everything it prints goes to the output file."""
    sink = os.open(output_path, os.O_WRONLY)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    convention = case.convention or "unknown"
    layer = None
    try:
        target = impls.load(case.impl)
        convention = case.convention or impls.detect(target)
        sender.send(("convention", convention))
        run, layer = impls.run_user_layer(target, convention, case, tensors)
    except impls.Unsupported as error:
        run = LayerRun(status="skip", convention=convention, message=str(error))
    except impls.Unusable as error:
        run = LayerRun(status="error", convention=convention, message=str(error))
    except BaseException as error:  # the layer's own bug, whatever it is
        run = LayerRun(status="error", convention=convention, message=describe(error))
    _flush()
    sender.send(("run", run))
    if layer is not None:
        try:
            note = impls.accumulation_note(layer, convention, tensors, run.outputs)
        except BaseException:
            note = None
        _flush()
        sender.send(("note", note))


def describe(error: BaseException) -> str:
    """`Type: message (file.py:line in function)`, at the innermost frame of the user's code."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if PACKAGE not in f.filename]
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}{where if frames else ''}"


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a layer may have closed or replaced them
            stream.flush()


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
