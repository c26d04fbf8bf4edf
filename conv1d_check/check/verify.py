"""Run one Case end to end: tensors, the layer under test, torch, the oracle, the verdict.

The float64 oracle is torch on the CPU in float64, fed the very tensors the
other sides get (rounded to the checked dtype once). Each side is judged
against it with the pass rule of `tolerance`; the verdict is the layer's, and
torch's own error is reported beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..usercode.builtin import run_builtin
from ..usercode.isolation import run_isolated
from ..usercode.protocol import BUILTIN, Job, LayerRun, RunStatus
from . import torch_side
from .case import Case
from .diagnose import Evidence, diagnose, explain, strips
from .tolerance import TENSORS, TensorError, Tolerance, compare, term_counts

Tensors = dict[str, np.ndarray]


def make_tensors(case: Case) -> Tensors:
    """x, W, b (with bias) and the upstream gradient dy, drawn from one Generator seeded by `seed`.

    In this order: x ~ N(0, 1) of shape (N, C_in, L); W and b ~ U(−k, k) with
    k = 1/sqrt(C_in/G · K), torch's own initialisation (so the bias is nonzero);
    dy ~ N(0, 1) of shape (N, C_out, L_out). Then all are rounded to `dtype` once.
    """
    spec, rng = case.spec, np.random.default_rng(case.seed)
    bound = 1.0 / np.sqrt(spec.in_per_group * spec.kernel_size)
    tensors = {
        "x": rng.standard_normal((case.batch, spec.in_channels, case.length)),
        "W": rng.uniform(-bound, bound, spec.weight_shape),
    }
    if spec.bias:
        tensors["b"] = rng.uniform(-bound, bound, spec.out_channels)
    tensors["dy"] = rng.standard_normal((case.batch, spec.out_channels, case.output_length))
    return {name: t.astype(case.dtype) for name, t in tensors.items()}


@dataclass
class CaseResult:
    """The outcome of one case: what the table, the JSON and JUnit are made from.

    status is "pass", "fail", "error" (the layer could not be run or judged) or
    "skip" (the layer cannot take these parameters, or torch refuses them).
    """

    case: Case
    status: str
    errors: dict[str, TensorError] = field(default_factory=dict)
    torch_errors: dict[str, TensorError] = field(default_factory=dict)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    diagnosis: list[str] = field(default_factory=list)
    where: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    message: str = ""
    convention: str | None = None
    layer_output: str = ""
    seconds: float = 0.0

    @property
    def id(self) -> str:
        return self.case.id

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "skip")

    def to_dict(self) -> dict[str, Any]:
        """The JSON record of docs/design.md §2 (non-finite numbers left to the writer)."""
        record: dict[str, Any] = {
            "id": self.id,
            "params": self.case.params(),
            "status": self.status,
        }
        if self.status in ("pass", "fail"):
            record["errors"] = {name: _error_dict(e) for name, e in self.errors.items()}
            record["torch_errors"] = {name: _error_dict(e) for name, e in self.torch_errors.items()}
        record |= {
            "diagnosis": self.diagnosis,
            "where": self.where,
            "notes": self.notes,
            "message": self.message,
            "convention": self.convention,
            "layer_output": self.layer_output,
            "seconds": round(self.seconds, 4),
        }
        return record


def _error_dict(error: TensorError) -> dict[str, Any]:
    return {
        "max_abs": error.max_abs,
        "max_rel": error.max_rel,
        "allowed": error.allowed,
        "mismatched": error.mismatched,
        "total": error.total,
        "worst_index": list(error.worst_index),
    }


def check(case: Case | None = None, /, **params: Any) -> CaseResult:
    """Run a case and judge it: `check(Case(...))` or `check(kernel_size=5, dtype="float32")`.

    Invalid parameters raise InvalidParameter; nothing else raises.
    """
    case = replace(case or Case(), **params)
    case.validate()
    start = time.perf_counter()
    result = _run(case)
    result.seconds = time.perf_counter() - start
    return result


def run_layer(case: Case, tensors: Tensors) -> LayerRun:
    """The case's layer on its tensors: ours in this process, a user's in a child process."""
    if case.impl == BUILTIN:
        return run_builtin(case.spec, tensors)
    return run_isolated(Job(case.impl, case.convention, case.spec), tensors, case.timeout)


def _run(case: Case) -> CaseResult:
    tensors = make_tensors(case)
    run = run_layer(case, tensors)
    outcome = CaseResult(
        case,
        str(run.status),
        message=run.message,
        notes=run.notes,
        convention=run.convention,
        layer_output=run.printed,
    )
    if run.status != RunStatus.OK:
        return outcome
    args = (case.spec, tensors["x"], tensors["W"], tensors.get("b"), tensors["dy"])
    truth, abs_sums = torch_side.oracle(*args)
    same_as_oracle = case.device == "cpu" and case.dtype == "float64"
    theirs = truth if same_as_oracle else torch_side.conv1d(*args, case.device, case.tf32)
    tolerance = Tolerance(case.atol, case.rtol)
    counts = term_counts(case.spec, case.batch, case.length)
    problems = []
    for name in (n for n in TENSORS if n in truth):
        allowed = tolerance.allowed(truth[name], abs_sums[name], counts[name], np.dtype(case.dtype))
        outcome.shapes[name] = truth[name].shape
        outcome.torch_errors[name] = compare(theirs[name], truth[name], allowed)
        actual = run.tensors.get(name)
        problem = _shape_or_dtype_problem(name, actual, truth[name], case.dtype)
        if problem:
            problems.append((name, problem))
        if actual is not None and actual.shape == truth[name].shape:
            outcome.errors[name] = compare(actual, truth[name], allowed)
    failed = [name for name, e in outcome.errors.items() if not e.passed]
    outcome.status = "fail" if problems or failed else "pass"
    outcome.message = "\n".join(
        [text for _, text in problems] + [explain(n, outcome.errors[n], tolerance) for n in failed]
    )
    if outcome.status == "fail":
        evidence = Evidence(case, tensors, run.tensors, truth, abs_sums, run.initial)
        wrong = {n for n, _ in problems} | set(failed)
        outcome.diagnosis = diagnose(evidence, [n for n in TENSORS if n in wrong])
        outcome.where = {name: strips(evidence, name) for name in failed}
    outcome.diagnosis += _torch_drift(outcome.torch_errors)
    return outcome


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


def _torch_drift(torch_errors: dict[str, TensorError]) -> list[str]:
    drifted = [name for name, e in torch_errors.items() if not e.passed]
    if not drifted:
        return []
    return [
        f"torch itself is outside the bound on {', '.join(drifted)} "
        "(its own rounding, e.g. TF32 on a GPU): the reference drifts, not necessarily the layer"
    ]


def assert_matches_torch(case: Case | None = None, /, **params: Any) -> CaseResult:
    """`check`, raising AssertionError with the explanation unless the case passes."""
    result = check(case, **params)
    if not result.passed:
        raise AssertionError(f"{result.id}: {result.status}\n{result.message}")
    return result
