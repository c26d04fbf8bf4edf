"""What the tool and a user's layer exchange: both sides of the isolation import this, and it
imports neither of them.

A `Job` says which layer to run and on which convolution; the tensors travel beside it. A
`LayerRun` is what came back: the layer's tensors, or why there are none. Both travel as plain
values (`wire.py`); what the tool reads back is checked field by field (`run_from_plain`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

import numpy as np

from ..nn.spec import ConvSpec
from .wire import Malformed

BUILTIN = "builtin"  # the impl that names our own numpy Conv1D
# What a request to a layer's worker asks for: a case; the same instance's forward and backward
# again (to tell whether gradients accumulate); the consistency check's measurements.
RUN, AGAIN, MEASURE = "run", "again", "measure"
Tensors = dict[str, np.ndarray]


class RunStatus(StrEnum):
    """How running the layer went, before anything is judged."""

    OK = "ok"  # forward and backward returned
    SKIP = "skip"  # the layer cannot take the case's parameters
    ERROR = "error"  # it raised, hung, died, or gave something unusable


@dataclass(frozen=True)
class Job:
    """A layer to run: `impl` (a file or module, and a name in it) in a calling convention
    (None: detect it), on the convolution `spec`; `payload`: the layer itself, pickled, when
    no file holds it (`byvalue`)."""

    impl: str
    convention: str | None
    spec: ConvSpec
    layout: str | None = None  # the axes it takes its tensors in (None: found by measurement)
    payload: bytes | None = None
    forward_only: bool = False  # --only y: the layer's forward alone, its backward never called


@dataclass
class LayerRun:
    """What running a layer gave.

    tensors: its y (N, C_out, L_out), dX (N, C_in, L), dW (C_out, C_in/G, K), db (C_out,), as
        numpy arrays, whatever it returned them as; absent when it gave none.
    initial: the weights W and b the layer built for itself, before ours were put in.
    printed: what it wrote on stdout and stderr.
    unimplemented: why the layer gave no gradients at all (no backward, NotImplementedError).
    layout: the axes the layer took its tensors in (`usercode.layout`), given or found.
    """

    tensors: Tensors = field(default_factory=dict)
    status: RunStatus = RunStatus.OK
    message: str = ""
    convention: str = BUILTIN
    notes: list[str] = field(default_factory=list)
    printed: str = ""
    initial: Tensors = field(default_factory=dict)
    unimplemented: str | None = None
    layout: str | None = None
    # the layer's own frames when it raised, innermost last: {"file", "line", "function", "code"}
    traceback: list[dict] = field(default_factory=list)


def job_from_plain(plain: dict) -> Job:
    """The Job a request carries (`asdict(job)`)."""
    return Job(**(plain | {"spec": ConvSpec(**plain["spec"])}))


def run_to_plain(run: LayerRun) -> dict:
    """`run` as plain values and arrays, for the pipe."""
    return {f.name: getattr(run, f.name) for f in fields(LayerRun)}


def run_from_plain(plain: object) -> LayerRun:
    """The LayerRun a reply carries, every field checked. Raises Malformed."""
    if not isinstance(plain, dict) or set(plain) - {f.name for f in fields(LayerRun)}:
        raise Malformed("a reply that is not a run")
    run = LayerRun(**plain)
    tensors_ok = all(
        isinstance(t, dict) and all(isinstance(a, np.ndarray) for a in t.values())
        for t in (run.tensors, run.initial)
    )
    texts_ok = all(isinstance(t, str) for t in (run.message, run.convention, run.printed))
    if not (
        tensors_ok
        and texts_ok
        and run.status in set(RunStatus)
        and isinstance(run.notes, list)
        and all(isinstance(note, str) for note in run.notes)
        and isinstance(run.unimplemented, str | None)
        and isinstance(run.layout, str | None)
        and isinstance(run.traceback, list)
        and all(
            isinstance(frame, dict) and all(isinstance(v, str | int) for v in frame.values())
            for frame in run.traceback
        )
    ):
        raise Malformed("a run with a field of the wrong type")
    run.status = RunStatus(run.status)
    return run


def measurements_valid(plain: object) -> bool:
    """Whether a MEASURE reply is consistency.measure's: {input: [number, number, count]}."""
    return isinstance(plain, dict) and all(
        isinstance(v, list) and len(v) == 3 and all(isinstance(n, int | float) for n in v)
        for v in plain.values()
    )


class Unsupported(Exception):
    """The layer cannot take this case's parameters: the case is skipped."""


class Unusable(Exception):
    """The layer cannot be driven at all (no forward, weights it will not take...): an error."""
