"""Diagnoses worked out from the numbers, over many shapes: which samples are in a gradient,
the precision a tensor was computed in, a factor the parameters explain, and whether the
layer's backward is the gradient of its own forward. Asserted by the findings' kinds, names
and evidence, not by their words."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from conv1d_check import check
from conv1d_check.check import diagnosis, verify
from conv1d_check.check.diagnosis import Kind
from conv1d_check.check.diagnosis.samples import ranges
from conv1d_check.check.tolerance import Tolerance
from conv1d_check.usercode.builtin import run_builtin

LAYERS = Path(__file__).parent / "layers"
SHAPES = list(itertools.product((2, 3, 5), (1, 2), (2, 3)))  # (batch, stride, kernel_size)


def run(layer: str, **params):
    return check(impl=f"{LAYERS / layer}", in_channels=3, out_channels=4, length=13, **params)


def diagnosed(result) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in result.diagnosis)


def findings(result, *kinds: Kind) -> dict:
    """The case's findings by tensor, the consistency and torch's drift left out: {"dW": f}."""
    kept = [f for f in result.findings if f.kind not in (Kind.CONSISTENCY, Kind.TORCH_DRIFT)]
    assert len({f.tensor for f in kept}) == len(kept), result.diagnosis  # one finding a tensor
    return {f.tensor: f for f in kept if not kinds or f.kind in kinds}


@pytest.mark.parametrize(
    ("indices", "text"), [([0], "0"), ([1, 2], "1-2"), ([0, 2, 3, 5], "0, 2-3, 5")]
)
def test_ranges_by_hand(indices, text):
    assert ranges(indices) == text


@pytest.mark.parametrize(("batch", "stride", "kernel_size"), SHAPES)
def test_a_gradient_from_the_last_sample_only_names_that_sample(batch, stride, kernel_size):
    result = run(
        "broken_last_sample_dw.py:Conv1d", batch=batch, stride=stride, kernel_size=kernel_size
    )
    found = findings(result)
    assert set(found) == {"dW", "db"}, result.diagnosis
    for f in found.values():
        assert (f.kind, f.names, f.evidence) == (
            Kind.SAMPLES,
            ("contributions",),
            {"only": [batch - 1]},
        )


def test_a_gradient_missing_some_samples_names_them(tmp_path):
    layer = tmp_path / "drops.py"
    layer.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "import correct_functional as correct\n"
        "forward = correct.forward\n\n"
        "def backward(dout, cache):\n"
        "    dx, dw, db = correct.backward(dout, cache)\n"
        "    x, w, b, stride, padding = cache\n"
        "    dout = dout.copy()\n"
        "    dout[1:3] = 0  # samples 1 and 2 forgotten\n"
        "    _, dw, db = correct.backward(dout, cache)\n"
        "    return dx, dw, db\n"
    )
    result = check(impl=str(layer), batch=4)
    dW = findings(result)["dW"]
    assert (dW.kind, dW.evidence) == (Kind.SAMPLES, {"missing": [1, 2]}), result.diagnosis


@pytest.mark.parametrize(("batch", "stride", "kernel_size"), SHAPES)
def test_y_computed_in_float16_is_named(batch, stride, kernel_size):
    result = run(
        "broken_float16_forward.py:Conv1d", batch=batch, stride=stride, kernel_size=kernel_size
    )
    found = findings(result)
    assert set(found) == {"y"}, result.diagnosis
    assert (found["y"].kind, found["y"].names) == (Kind.PRECISION, ("float16",))


def test_values_stored_in_bfloat16_are_named(tmp_path):
    layer = tmp_path / "bf16.py"
    layer.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "import numpy as np\n"
        "from correct_layer_plain import Conv1d as Correct\n\n"
        "class Conv1d(Correct):\n"
        "    def forward(self, x):\n"
        "        y = super().forward(x).astype(np.float32)\n"
        "        y.view(np.uint32)[...] &= 0xFFFF0000  # bfloat16: the top 16 bits of a float32\n"
        "        return y.astype(np.float64)\n"
    )
    result = check(impl=f"{layer}:Conv1d")
    y = findings(result)["y"]
    assert (y.kind, y.names, y.evidence["values"]) == (Kind.PRECISION, ("bfloat16",), "bfloat16")


@pytest.mark.parametrize("kernel_size", (2, 4, 5))
@pytest.mark.parametrize("batch", (1, 3))
def test_a_factor_of_the_kernel_size_is_named(kernel_size, batch):
    result = run("broken_kernel_times_dw.py", batch=batch, kernel_size=kernel_size, stride=1)
    dW = findings(result)["dW"]
    assert dW.kind == Kind.FACTOR and "K" in dW.names, result.diagnosis
    assert dW.evidence["ratio"] == pytest.approx(kernel_size)


@pytest.mark.parametrize("batch", (2, 3, 5))
def test_a_batch_mean_is_named_whatever_the_batch(batch):
    result = run("broken_batch_mean_dw.py", batch=batch)
    dW = findings(result)["dW"]
    assert dW.kind == Kind.FACTOR and "1/N" in dW.names, result.diagnosis
    assert diagnosed(result)["dW"].startswith(f"exactly 1/N = 1/{batch} of the truth")


@pytest.mark.parametrize(("batch", "stride", "kernel_size"), SHAPES)
def test_a_forward_bug_with_a_consistent_backward_points_at_the_forward(batch, stride, kernel_size):
    """The kernel flipped in forward and backward alike: the backward is right for the forward
    the layer has, and that forward is wrong."""
    result = check(
        impl=f"{LAYERS / 'broken_flipped_kernel.py'}:Conv1D",
        batch=batch,
        stride=stride,
        kernel_size=kernel_size,
    )
    assert result.consistency == {"dX": True, "dW": True, "db": True}
    agree = [f for f in result.findings if f.kind == Kind.CONSISTENCY]
    assert all(f.evidence["disagreement"] <= f.evidence["resolution"] for f in agree)
    assert diagnosed(result)["consistency"].endswith("your forward is wrong: fix the forward first")
    assert "exact" not in diagnosed(result)["consistency"]


@pytest.mark.parametrize(
    "layer", ["broken_stride_ignored_backward.py:Conv1D", "broken_dx_zeros.py:Conv1D"]
)
def test_a_backward_bug_is_not_the_gradient_of_the_forward(layer):
    result = check(impl=f"{LAYERS / layer}")
    wrong = sorted(name for name, ok in result.consistency.items() if not ok)
    assert wrong == sorted(set(diagnosed(result)) - {"consistency"})
    assert diagnosed(result)["consistency"].endswith(
        "(your forward is right): the bug is in backward"
    )


def test_a_correct_layer_is_consistent_with_itself():
    """The consistency check itself: on a correct layer nothing disagrees."""
    from conv1d_check.check.case import Case
    from conv1d_check.check.tensors import make_tensors
    from conv1d_check.check.verify import _consistency, run_layer

    for dtype in ("float64", "float32"):
        case = Case(impl=f"{LAYERS / 'correct_layer_params.py'}:Conv1d", dtype=dtype).validate()
        tensors = make_tensors(case)
        measured = _consistency(case, tensors, run_layer(case, tensors))
        assert {name: ok for name, (ok, _, _) in measured.items()} == {
            "dX": True,
            "dW": True,
            "db": True,
        }


def test_the_consistency_is_in_the_json(capfd):
    from conv1d_check.cli import main

    with pytest.raises(SystemExit):
        main(["--impl", f"{LAYERS / 'broken_dx_zeros.py'}:Conv1D", "--json"])
    import json

    record = json.loads(capfd.readouterr().out)["cases"][0]
    assert record["consistency"] == {"dX": False, "dW": True, "db": True}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_diagnosis_reuses_the_verdicts_allowances(monkeypatch, dtype):
    """Computed once per tensor for the case's dtype, by the verdict (a third of a second a
    tensor at 17 M elements); the diagnosis computes only other dtypes' (the precision clues)."""
    calls = []
    original = Tolerance.allowance
    monkeypatch.setattr(
        Tolerance,
        "allowance",
        lambda self, sums, kind: calls.append(np.dtype(kind)) or original(self, sums, kind),
    )
    result = run("broken_dx_zeros.py:Conv1D", dtype=dtype)
    assert "never computed" in diagnosed(result)["dX"]
    assert calls.count(np.dtype(dtype)) == len(result.errors) == 4


def likely_bugs(monkeypatch, damaged: str, **params) -> list[Kind]:
    """The kinds of likely bug the diagnosis computed for the built-in layer's results with
    tensor `damaged` negated."""
    kinds = []
    original = diagnosis.alternatives

    def recording(evidence, failed):
        found = original(evidence, failed)
        kinds.extend(alternative.kind for alternative in found)
        return found

    def run_layer(case, tensors):
        run = run_builtin(case.spec, tensors)
        run.tensors[damaged] = -run.tensors[damaged]
        return run

    monkeypatch.setattr(diagnosis, "alternatives", recording)
    monkeypatch.setattr(verify, "run_layer", run_layer)
    assert check(**params).status == "fail"
    return kinds


@pytest.mark.parametrize(("damaged", "computed"), [("y", True), ("dW", False)])
def test_a_missing_bias_is_computed_only_when_y_failed(monkeypatch, damaged, computed):
    """It changes y alone (a tensor's worth of memory): with y right it cannot explain anything."""
    assert (Kind.BIAS_MISSING in likely_bugs(monkeypatch, damaged)) == computed


@pytest.mark.parametrize(("kernel_size", "computed"), [(3, True), (1, False)])
def test_a_flipped_kernel_is_computed_only_with_more_than_one_tap(
    monkeypatch, kernel_size, computed
):
    """One tap flipped is the same tap: its y, dX and dW would be the truth's, computed again."""
    kinds = likely_bugs(monkeypatch, "dW", kernel_size=kernel_size)
    assert (Kind.FLIPPED_KERNEL in kinds) == computed


def test_a_doubled_gradient_is_said_to_be_counted_twice_and_nothing_more(monkeypatch):
    """The tool runs backward once, on a fresh layer: a guess at gradients accumulated over two
    backward calls was untrue of every layer it was printed for."""

    def run_layer(case, tensors):
        run = run_builtin(case.spec, tensors)
        run.tensors["db"] = 2 * run.tensors["db"]
        return run

    monkeypatch.setattr(verify, "run_layer", run_layer)
    found = diagnosed(check(stride=1))
    assert found == {"db": "exactly twice the truth: counted twice"}
