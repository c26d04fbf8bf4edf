"""Run one Case end to end: tensors, the layer under test, torch, the oracle, the verdict.

The float64 oracle is torch on the CPU in float64, fed the very tensors the other sides get
(rounded to the checked dtype once). Each side is judged against it with the pass rule of
`tolerance`; the verdict is the layer's, and torch's own error is reported beside it.
"""

from __future__ import annotations

import time

import numpy as np

from ..nn.spec import InvalidParameter
from ..usercode import byvalue, consistency
from ..usercode.builtin import run_builtin
from ..usercode.isolation import measure_isolated, run_isolated
from ..usercode.layout import parse
from ..usercode.protocol import BUILTIN, Job, LayerRun, RunStatus
from . import normwise, scales, torch_side
from .case import Case
from .diagnosis import Evidence, Finding, Kind, diagnose, explain, lines, strips
from .result import CaseResult, Status
from .tensors import Tensors, make_tensors
from .tolerance import TENSORS, TensorError, Tolerance, term_counts


def run_layer(case: Case, tensors: Tensors) -> LayerRun:
    """The case's layer on its tensors: ours in this process, a user's in a child process."""
    if case.impl == BUILTIN:
        return run_builtin(case.spec, tensors)
    job = Job(
        case.impl,
        case.convention,
        case.spec,
        case.layout,
        byvalue.payload(case.impl),
        forward_only=case.judged == ("y",),
    )
    if not case.isolate:
        from ..usercode import worker  # not at import: `python -m` runs it as the child

        return worker.run_here(job, tensors)
    return run_isolated(job, tensors, case.timeout, case.memory_bytes)


def run_case(case: Case, given: Tensors | None = None, keep: bool = False) -> CaseResult:
    """Run a valid case and judge it; the layer's failures are the result's, never raised.
    `given`: the user's own x (W, b, dy) as arrays, else case.inputs' file or the seed's. With
    `keep`, the result holds the case's arrays (CaseResult.arrays)."""
    start = time.perf_counter()
    try:
        tensors = make_tensors(case, given)
    except InvalidParameter as error:  # the inputs' file changed, or does not fit this case
        return CaseResult(case, Status.ERROR, message=str(error))
    beyond = scales.beyond_range(case, tensors) if case.inputs is not None else None
    if beyond:  # the user's values: ours never come near
        return CaseResult(case, Status.ERROR, message=beyond)
    run = run_layer(case, tensors)
    result = CaseResult(
        case,
        Status(run.status) if run.status != RunStatus.OK else Status.PASS,
        message=run.message,
        notes=run.notes,
        convention=run.convention,
        layer_output=run.printed,
        layout=run.layout,
        arrays=dict(tensors) if keep else {},
        traceback=run.traceback,
    )
    if run.status == RunStatus.OK:
        judge(result, tensors, run, keep=keep)
    elif run.status == RunStatus.ERROR and run.tensors:  # the forward ran, backward raised
        judge(result, tensors, run, keep=keep, names=("y",))
        result.status, result.message = Status.ERROR, run.message
    result.seconds = time.perf_counter() - start
    return result


def judge(
    result: CaseResult,
    tensors: Tensors,
    run: LayerRun,
    keep: bool = False,
    names: tuple[str, ...] | None = None,
) -> None:
    """Compare the layer's tensors and torch's with the truth; fill in `result` (and its
    arrays, with `keep`). `names`: the tensors to judge (None: the case's)."""
    case = result.case
    args = (case.spec, tensors["x"], tensors["W"], tensors.get("b"), tensors["dy"])
    truth = torch_side.oracle(*args)
    theirs = truth.values
    if not result.torch_is_truth:
        theirs = torch_side.conv1d(*args, case.device, case.tf32)
    tolerance = Tolerance(case.atol, case.rtol)
    counts = term_counts(case.spec, case.batch, case.length)
    levels = normwise.transform_levels(case.spec, case.length)
    judged = [n for n in case.judged if n in truth.values]
    to_judge = [n for n in names or judged if n in truth.values]
    sums = {name: truth.sums(name, counts[name]) for name in {*judged, *to_judge}}
    allowances = {name: tolerance.allowance(s, case.dtype) for name, s in sums.items()}
    if case.atol is None:  # the allowance computed above is the default rule's
        for name in judged:
            result.notes += scales.notes(name, sums[name], case.dtype, allowances[name])
    problems = []
    for name in to_judge:
        expected, allowance = truth.values[name], allowances[name]
        bound = None
        if case.rule == normwise.NORMWISE:
            bound = normwise.normwise_bound(sums[name], case.dtype, levels)
        result.shapes[name] = expected.shape
        result.torch_errors[name] = normwise.judge(theirs[name], expected, allowance, bound)
        actual = run.tensors.get(name)
        problem = _shape_or_dtype_problem(name, actual, expected, case.dtype)
        if problem and actual is not None and actual.shape != expected.shape and run.layout:
            problem += _in_layer_shape(name, expected.shape, run.layout)
        if actual is None:
            result.missing[name] = "not implemented" if run.unimplemented else "not given"
            problem = (
                f"{name}: not implemented ({run.unimplemented})" if run.unimplemented else problem
            )
        if problem:
            problems.append((name, problem))
        if actual is not None and actual.shape == expected.shape:
            result.errors[name] = normwise.judge(actual, expected, allowance, bound)
        if keep:
            result.arrays |= kept_arrays(name, actual, expected, allowance.allowed)
    # Let go of what the diagnosis does not use before it starts: at 17 M elements, torch's
    # own run and the worst-case bounds are 440 MB of its peak.
    allowed = {name: allowance.allowed for name, allowance in allowances.items()}
    del theirs, allowances
    failed = [name for name, e in result.errors.items() if not e.passed]
    result.status = Status.FAIL if problems or failed else Status.PASS
    result.message = "\n".join(
        [text for _, text in problems] + [explain(n, result.errors[n], tolerance) for n in failed]
    )
    if result.status == Status.FAIL:
        known = allowed if case.atol is None else None
        evidence = Evidence(case, tensors, run.tensors, truth, run.initial, known)
        wrong = {n for n, _ in problems} | set(failed)
        result.findings = diagnose(evidence, [n for n in TENSORS if n in wrong])
        result.where = {name: _in_layer_axes(strips(evidence, name), name, run) for name in failed}
        if case.impl != BUILTIN and not run.unimplemented:
            measured = _consistency(case, tensors, run)
            result.consistency = {name: ok for name, (ok, _, _) in measured.items()}
            result.findings += consistency_findings(measured)
    result.findings += _torch_drift(result.torch_errors, case.device)
    result.diagnosis = lines(result.findings)


def _in_layer_shape(name: str, shape: tuple[int, ...], layout: str) -> str:
    """The shape expected, in the axes of a layer that keeps its own: ' (x=NLC,W=KIO: (…))'."""
    order = parse(layout).axes(name)
    if len(order) != len(shape) or order == sorted(order):
        return ""
    return f" ({layout}: {tuple(shape[i] for i in order)} in the layer's axes)"


def _in_layer_axes(found: dict[str, str], name: str, run: LayerRun) -> dict[str, str]:
    """A tensor's strips, one per axis, in the order of the layer's own axes."""
    if not run.layout or len(found) != len(order := parse(run.layout).axes(name)):
        return found
    labels = list(found)
    return {labels[i]: found[labels[i]] for i in order}


def kept_arrays(
    name: str, actual: np.ndarray | None, expected: np.ndarray, allowed: np.ndarray
) -> dict[str, np.ndarray]:
    """Tensor `name`'s arrays, each in its shape: truth_, layer_ (when it gave a numeric one),
    error_ = |layer - truth| (when the shapes agree) and allowed_, each element's allowance
    (read-only: the judgement's own array, or one value spread over the shape). Each array a
    tensor's size is made once: at 17 M elements, each copy is 136 MB more at the peak."""
    kept = {f"truth_{name}": expected, f"allowed_{name}": np.broadcast_to(allowed, expected.shape)}
    if actual is not None and actual.dtype.kind in "biuf":
        kept[f"layer_{name}"] = actual
        if actual.shape == expected.shape:
            error = np.subtract(actual, expected, dtype=np.float64)
            kept[f"error_{name}"] = np.abs(error, out=error)
    return kept


def _consistency(
    case: Case, tensors: Tensors, run: LayerRun
) -> dict[str, tuple[bool, float, float]]:
    """Whether each of the layer's gradients is the gradient of its own forward, with the
    measured disagreement and the resolution (see usercode/consistency.py)."""
    layout = case.layout or run.layout
    job = Job(
        case.impl, case.convention or run.convention, case.spec, layout, byvalue.payload(case.impl)
    )
    if case.isolate:
        measured = measure_isolated(job, tensors, case.timeout, case.memory_bytes)
    else:
        from ..usercode import worker

        measured = worker.measure_here(job, tensors)
    if not isinstance(measured, dict):  # the layer could not be measured: no opinion
        return {}
    return consistency.agreement(measured, run.tensors, tensors)


def consistency_findings(measured: dict[str, tuple[bool, float, float]]) -> list[Finding]:
    """One finding a gradient: agrees or disagrees with central differences of the forward."""
    return [
        Finding(
            name,
            Kind.CONSISTENCY,
            ("agrees",) if ok else ("disagrees",),
            {"disagreement": disagreement, "resolution": resolution},
        )
        for name, (ok, disagreement, resolution) in measured.items()
    ]


def _shape_or_dtype_problem(
    name: str, actual: np.ndarray | None, expected: np.ndarray, dtype: str
) -> str | None:
    if actual is None:
        return f"{name}: the layer gave no {name}"
    if actual.shape != expected.shape:
        return f"{name}: shape {actual.shape}, expected {expected.shape}"
    if actual.dtype != np.dtype(dtype):
        return f"{name}: dtype {actual.dtype} in a {dtype} check (torch keeps the input's dtype)"
    return None


def _torch_drift(torch_errors: dict[str, TensorError], device: str) -> list[Finding]:
    drifted = tuple(name for name, e in torch_errors.items() if not e.passed)
    if not drifted:
        return []
    return [Finding("", Kind.TORCH_DRIFT, drifted, {"gpu": device != "cpu"})]


def trace(case: Case) -> dict[str, Tensors]:
    """A case's numbers, to trace by hand: the inputs (x, W, b, dy), the float64 truth and
    the layer's results."""
    tensors = make_tensors(case)
    run = run_layer(case, tensors)
    args = (case.spec, tensors["x"], tensors["W"], tensors.get("b"), tensors["dy"])
    return {"inputs": tensors, "truth": torch_side.oracle(*args).values, "layer": run.tensors}
