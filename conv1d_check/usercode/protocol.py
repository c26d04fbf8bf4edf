"""What the tool and a user's layer exchange: both sides of the isolation import this, and it
imports neither of them.

A `Job` says which layer to run and on which convolution; the tensors travel beside it. A
`LayerRun` is what came back: the layer's tensors, or why there are none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..nn.spec import ConvSpec

BUILTIN = "builtin"  # the impl that names our own numpy Conv1D
RUN, MEASURE = "run", "measure"  # what a request to a layer's worker asks for
Tensors = dict[str, np.ndarray]


class RunStatus(StrEnum):
    """How running the layer went, before anything is judged."""

    OK = "ok"  # forward and backward returned
    SKIP = "skip"  # the layer cannot take the case's parameters
    ERROR = "error"  # it raised, hung, died, or gave something unusable


@dataclass(frozen=True)
class Job:
    """A layer to run: `impl` (a file or module, and a name in it) in a calling convention
    (None: detect it), on the convolution `spec`."""

    impl: str
    convention: str | None
    spec: ConvSpec
    forward_only: bool = False  # --only y: the layer's forward alone, its backward never called


@dataclass
class LayerRun:
    """What running a layer gave.

    tensors: its y (N, C_out, L_out), dX (N, C_in, L), dW (C_out, C_in/G, K), db (C_out,), as
        numpy arrays, whatever it returned them as; absent when it gave none.
    initial: the weights W and b the layer built for itself, before ours were put in.
    printed: what it wrote on stdout and stderr.
    unimplemented: why the layer gave no gradients at all (no backward, NotImplementedError).
    """

    tensors: Tensors = field(default_factory=dict)
    status: RunStatus = RunStatus.OK
    message: str = ""
    convention: str = BUILTIN
    notes: list[str] = field(default_factory=list)
    printed: str = ""
    initial: Tensors = field(default_factory=dict)
    unimplemented: str | None = None
    # the layer's own frames when it raised, innermost last: {"file", "line", "function", "code"}
    traceback: list[dict] = field(default_factory=list)


class Unsupported(Exception):
    """The layer cannot take this case's parameters: the case is skipped."""


class Unusable(Exception):
    """The layer cannot be driven at all (no forward, weights it will not take...): an error."""
