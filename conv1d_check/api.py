"""The Python API: check a case, assert it in a test, parametrize a test over a config.

import conv1d_check

result = conv1d_check.check(kernel_size=5, padding="same", stride=1)
conv1d_check.assert_matches_torch(impl=MyConv1D, dtype="float32")

@pytest.mark.parametrize("case", conv1d_check.cases("mytorch", impl=MyConv1D), ids=str)
def test_my_layer(case):
    conv1d_check.assert_matches_torch(case)
"""

from __future__ import annotations

import difflib
import inspect
import os
import reprlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import wraps
from pathlib import Path
from types import ModuleType
from typing import Any, ParamSpec

from .check.case import Case
from .check.diagnosis.words import traceback_lines
from .check.inputs import ARRAYS
from .check.inputs import fit as fit_inputs
from .check.inputs import load as load_inputs
from .check.result import CaseResult, Status
from .check.torch_side import check_device, one_thread
from .check.verify import run_case
from .nn.spec import WrongType
from .usercode.discover import as_impl

P = ParamSpec("P")


def _refuse_misused(
    function: str, signature: inspect.Signature, args: tuple, keywords: dict
) -> None:
    """A keyword `function` does not take: TypeError naming it and the nearest it takes. A first
    argument that is not a Case (a layer, most likely: check(MyConv1D)): WrongType saying how
    a layer is given."""
    __tracebackhide__ = True
    if args and not isinstance(args[0], Case):
        raise WrongType(
            "case",
            f"{function}({reprlib.repr(args[0])}): the first argument is a Case; "
            f"a layer is given as {function}(impl=...)",
        )
    for keyword in keywords:
        if keyword == "case":
            raise TypeError(f"{function}(): give the case first, {function}(case), not case=")
        if keyword not in signature.parameters:
            names = [name for name in signature.parameters if name != "case"]
            near = difflib.get_close_matches(keyword, names, n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else f"; it takes {', '.join(names)}"
            raise TypeError(f"{function}() got an unexpected keyword argument {keyword!r}{hint}")


def _suggesting(function: Callable[P, CaseResult]) -> Callable[P, CaseResult]:
    """`function`, whose TypeError for an unknown keyword suggests the one meant."""
    signature = inspect.signature(function)

    @wraps(function)
    def checked(*args: P.args, **kwargs: P.kwargs) -> CaseResult:
        __tracebackhide__ = True
        _refuse_misused(function.__name__, signature, args, kwargs)
        return function(*args, **kwargs)

    return checked


@_suggesting
def check(
    case: Case | None = None,
    /,
    *,
    in_channels: int | None = None,
    out_channels: int | None = None,
    kernel_size: int | None = None,
    stride: int | None = None,
    padding: int | str | None = None,
    dilation: int | None = None,
    groups: int | None = None,
    bias: bool | None = None,
    padding_mode: str | None = None,
    batch: int | None = None,
    length: int | None = None,
    dtype: str | None = None,
    seed: int | None = None,
    device: str | None = None,
    tf32: bool | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    rule: str | None = None,
    inputs: str | Path | Mapping[str, Any] | None = None,
    impl: str | Path | type | ModuleType | None = None,
    convention: str | None = None,
    timeout: float | None = None,
    memory_limit: float | None = None,
    only: str | None = None,
    layout: str | None = None,
    isolate: bool | None = None,
) -> CaseResult:
    """Run a case and judge it: `check(Case(...))`, `check(kernel_size=5, dtype="float32")`.

    Each keyword replaces that field of `case` (default: the notebook's case); None keeps it.

    Parameters
    ----------
    in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
    padding_mode : torch.nn.Conv1d's; padding is an int, "same" or "valid".
    batch, length : the input x is (batch, in_channels, length).
    dtype : "float64" or "float32", of every tensor.
    seed : of x, W, b and the upstream gradient dy.
    device, tf32 : where the torch side runs ("cpu", "cuda"), and whether it may use TF32.
    atol, rtol : assert_close's rule instead of the rounding bound (both or neither).
    rule : "elementwise" (default) or "normwise", which also passes a tensor whose error norm
        is within a transform's (FFT, Winograd) bound.
    inputs : the user's own tensors instead of the seeded ones: an .npz file's path, or a
        mapping of arrays, x (N, C_in, L) and optionally W, b and dy; x and W set the shapes
        and x the dtype, unless those are given too (then they must agree).
    impl : the layer: "builtin", "path/file.py:Name", "package.module:Name", a Path, a class,
        or a module of functions. A user's layer runs in a child process.
    convention : "seed", "mytorch", "layer" or "functional" (default: detected).
    timeout : seconds the layer may take (inf: none); memory_limit: GiB it may use.
    only : a comma list of the tensors to judge, of "y,dX,dW,db".
    layout : the axes a user's layer takes its tensors in, e.g. "x=NLC,W=KIO" (x: NCL or NLC;
        W: its axes' order over (out, in, kernel)); default: found by measurement.
    isolate : False runs a user's layer in this process, so that breakpoint(), pdb and
        pytest's --pdb reach it; it gives up the timeout, the memory limit, the capture of
        what it prints, and the tool's survival of a layer that crashes or exits.

    Returns the CaseResult, with the case's arrays (`result.arrays`: x, W, b, dy and, per
    tensor, truth_, layer_, error_ and allowed_; `result.save(path)` writes them). Invalid
    parameters raise InvalidParameter (a ValueError; a
    TypeError too for a value of the wrong type); a missing GPU raises DeviceUnavailable.
    Nothing else raises: the layer's own failures are the result's.
    """
    given = {k: v for k, v in locals().items() if k != "case" and v is not None}
    if "impl" in given:
        given["impl"] = as_impl(given["impl"])
    arrays = None
    if "inputs" in given:
        arrays = load_inputs(given["inputs"])
        given["inputs"] = ARRAYS if isinstance(given["inputs"], Mapping) else str(given["inputs"])
    case = replace(case or Case(), **given)
    if arrays is not None:
        case = fit_inputs(case, arrays, fixed=set(given))
    case.validate()
    check_device(case.device)
    with one_thread():
        return run_case(case, arrays, keep=True)


def _asserting(checker: Callable[P, CaseResult]) -> Callable[P, CaseResult]:
    """`checker` that raises unless the case passes: the same parameters, editors see them."""

    signature = inspect.signature(checker)

    @wraps(checker)
    def assert_matches_torch(*args: P.args, **kwargs: P.kwargs) -> CaseResult:
        __tracebackhide__ = True  # pytest shows the caller's line, not ours
        _refuse_misused("assert_matches_torch", signature, args, kwargs)
        result = checker(*args, **kwargs)
        if _under_pytest():
            _hand_to_the_plugin(result)
            if result.status == Status.SKIP:
                import pytest

                pytest.skip(f"{result.id}: {keyword_form(result.message)}")
        if not result.passed:
            raise AssertionError(explanation(result))
        return result

    assert_matches_torch.__doc__ = """`check`, raising AssertionError unless the case passes.

    The message is the whole explanation: each failing tensor, the diagnosis, where it is off,
    the notes and what the layer printed. A case the layer cannot take (a skip) checked
    nothing: under pytest it is skipped with the reason, elsewhere it raises too.
    Parameters: as `check`'s."""
    assert_matches_torch.__signature__ = inspect.signature(checker)
    return assert_matches_torch


assert_matches_torch = _asserting(check)


def explanation(result: CaseResult) -> str:
    """A failed case in words, for an AssertionError: what the terminal shows, as text."""
    layer = f"{result.case.impl} ({result.convention or 'builtin'})"
    lines = [result.headline, f"{result.status}: case {result.id}, layer {layer}"]
    lines += result.message.splitlines()
    lines += traceback_lines(result.traceback)
    lines += [f"  diagnosis: {d}" for d in result.diagnosis]
    for name, axes in result.where.items():
        lines += [f"  where {name} is off, by {axis}: {strip}" for axis, strip in axes.items()]
    lines += [f"  note: {note}" for note in result.notes]
    if result.layer_output:
        lines += ["  the layer printed:", *result.layer_output.rstrip().splitlines()[:20]]
    return "\n".join(lines)


def cases(config: str | Path, **overrides: Any) -> list[Case]:
    """The cases of a config (a shipped one's name: smoke, mytorch, full, seed; or a path),
    the ones Conv1d accepts, with `overrides` over its defaults: for
    `@pytest.mark.parametrize("case", cases("mytorch"), ids=str)`."""
    from .sweep.config import load, resolve

    if "impl" in overrides:
        overrides["impl"] = as_impl(overrides["impl"])
    return [entry.case for entry in load(resolve(config), overrides) if not entry.skip]


def keyword_form(reason: str) -> str:
    """A skip's reason in the API's words: 'run with --padding 0' as 'pass padding=0'."""
    from .usercode.naming import IMPLIED, OPTIONS

    for name, option in OPTIONS.items():
        reason = reason.replace(option, f"{name}={IMPLIED[name]!r}")
    return reason.replace("(run with ", "(pass ")


def _hand_to_the_plugin(result: CaseResult) -> None:
    """The result, for the pytest plugin's summary of failure groups (when it is loaded)."""
    from . import pytest_plugin

    if pytest_plugin.active:
        pytest_plugin.judged.append(result)


def _under_pytest() -> bool:
    return "pytest" in sys.modules and "PYTEST_CURRENT_TEST" in os.environ
