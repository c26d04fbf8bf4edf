"""The child process's side of the isolation: load the user's layer, drive it, send back what
it gave. Everything it prints goes to a file the parent reads."""

from __future__ import annotations

import os
import sys
import traceback
from contextlib import suppress
from pathlib import Path

from . import discover
from .conventions import CONVENTIONS, accumulation_note, detect
from .protocol import Job, LayerRun, RunStatus, Tensors, Unsupported, Unusable

PACKAGE = str(Path(__file__).parents[1])  # conv1d_check/: frames there are the tool's


def serve(sender, job: Job, tensors: Tensors, output_path: str) -> None:
    """Run `job` and send ("convention", name) once known, ("run", LayerRun) when forward and
    backward are done, then ("note", str | None) from a second backward on the same instance
    (does the layer accumulate gradients?)."""
    sink = os.open(output_path, os.O_WRONLY)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    convention = job.convention or "unknown"
    layer = None
    try:
        target = discover.load(job.impl)
        convention = job.convention or detect(target)
        sender.send(("convention", convention))
        driven = CONVENTIONS[convention].drive(target, job.spec, tensors)
        run, layer = (
            LayerRun(driven.tensors, convention=convention, initial=driven.initial),
            driven.layer,
        )
    except Unsupported as error:
        run = LayerRun(status=RunStatus.SKIP, convention=convention, message=str(error))
    except Unusable as error:
        run = LayerRun(status=RunStatus.ERROR, convention=convention, message=str(error))
    except BaseException as error:  # the layer's own bug, whatever it is
        run = LayerRun(status=RunStatus.ERROR, convention=convention, message=describe(error))
    _flush()
    sender.send(("run", run))
    if layer is not None:
        try:
            note = accumulation_note(convention, layer, tensors, run.tensors)
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
