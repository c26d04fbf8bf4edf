"""Findings as data, asserted by kind: each bug family of the diagnosis benchmark is named by
its kind and no claim about it is false; one bug over a sweep is one failure group; findings
travel through the JSON record."""

import importlib.util
import itertools
import sys
from pathlib import Path

import pytest

from conv1d_check.check.case import Case
from conv1d_check.check.diagnosis import Finding, Kind
from conv1d_check.check.result import Status, from_record
from conv1d_check.report.groups import group

BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "diagnosis.py"
spec = importlib.util.spec_from_file_location("diagnosis_benchmark", BENCHMARK)
bench = sys.modules["diagnosis_benchmark"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def mutant(name: str, dtype: str, **params):
    bug = bench.BUGS[name]
    case = Case(dtype=dtype, **(bench.SIZES["small"] | bug.params | params)).validate()
    return bench.run(case, bug), bug


@pytest.mark.parametrize(
    ("name", "dtype"),
    [(name, dtype) for name, bug in bench.BUGS.items() for dtype in bug.dtypes],
)
def test_each_bug_is_named_by_its_kind_and_nothing_false_is_said(name, dtype):
    result, bug = mutant(name, dtype)
    if name == "dW × (1 + 64u)" and dtype == "float64":  # 64 ulps pass in float64: no claim
        assert result.status == Status.PASS
        return
    claims, true, named = bench.score(result, bug)
    assert result.status == Status.FAIL
    assert named and claims == true, result.diagnosis


def test_a_factor_near_1_is_not_called_a_precision():
    """dW × (1 + 1e-7) in float64 (point 2): a constant factor, no format named."""
    result, _ = mutant("dW × (1 + 64u)", "float64", batch=5)
    bug = bench.Bug(bench._times("dW", lambda c: 1 + 1e-7), {"dW": {Kind.FACTOR}}, Kind.FACTOR, ())
    result = bench.run(result.case, bug)
    (dW,) = [f for f in result.findings if f.tensor == "dW"]
    assert (dW.kind, dW.names) == (Kind.FACTOR, ())
    assert dW.evidence["ratio"] == pytest.approx(1 + 1e-7, rel=1e-9)


def test_a_sample_missing_from_a_long_batch_is_named():
    """db missing one sample at N = 2000, L_out = 1 (point 4): that sample, not a factor."""
    result, _ = mutant("last sample missing from dW, db", "float32", batch=2000, length=3)
    found = {f.tensor: f for f in result.findings if f.kind != Kind.TORCH_DRIFT}
    assert found["db"].kind == Kind.SAMPLES and found["db"].evidence == {"missing": [1999]}


def test_a_backward_only_flip_is_said_to_be_in_backward():
    """Point 1: the words say y is right and the backward flips W."""
    result, _ = mutant("flipped kernel in backward only", "float64")
    assert [f.kind for f in result.findings] == [Kind.FLIPPED_KERNEL]
    assert "while y is right: the backward flips W" in result.diagnosis[0]


@pytest.mark.parametrize(
    ("name", "grid"),
    [
        ("batch mean", {"batch": (2, 3), "out_channels": (2, 3), "stride": (1, 2, 3)}),
        (
            "reflect padded as symmetric",
            {"padding": (1, 2), "kernel_size": (2, 3), "stride": (1, 2), "length": (7, 12)},
        ),
    ],
)
def test_one_bug_over_a_sweep_is_one_group(name, grid):
    """Point 11: aliases of a factor that change from case to case (1/N, 1/C_out, 1/stride,
    1/2) and lengths that leave no middle make one group, not one a wording."""
    bug = bench.BUGS[name]
    cases = [
        Case(**(bench.SIZES["small"] | bug.params | dict(zip(grid, v, strict=True)))).validate()
        for v in itertools.product(*grid.values())
    ]
    results = [bench.run(case, bug) for case in cases]
    failing = [r for r in results if r.status == Status.FAIL]
    assert len(failing) >= len(results) // 2
    (found,) = group(results)
    assert len(found.results) == len(failing)


def test_findings_travel_through_the_json_record():
    result, _ = mutant("batch mean", "float64")
    again = from_record(result.to_record())
    assert again.findings == result.findings and again.diagnosis == result.diagnosis
    assert all(isinstance(f, Finding) for f in again.findings)
