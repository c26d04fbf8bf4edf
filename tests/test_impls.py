"""User layers (--impl): loading, the four conventions, isolation and diagnosis.

The layers are the corpus in tests/layers/ (see its README): correct ones in
every convention, the notebook's loop layer verbatim among them, and broken
ones with exactly one bug each, which the tool must flag with the right words.
"""

import json
import textwrap
from pathlib import Path

import pytest

from conv1d_check import check
from conv1d_check.cli import main
from conv1d_check.usercode import isolation
from conv1d_check.usercode.conventions import detect
from conv1d_check.usercode.discover import load

LAYERS = Path(__file__).parent / "layers"

CORRECT = {
    "notebook_seed.py:Conv1D": "seed",
    "vectorised_im2col.py:Conv1D": "seed",
    "mytorch_v1.py:Conv1D": "mytorch",
    "mytorch_v1_accumulating.py:Conv1D": "mytorch",
    "mytorch_v2.py:Conv1d": "mytorch",
    "layer_params.py:Conv1d": "layer",
    "layer_plain.py:Conv1d": "layer",
    "functional.py": "functional",
}

# file: (case parameters, {each failing tensor: words its diagnosis must contain})
BROKEN = {
    "flipped_kernel.py:Conv1D": ({}, dict.fromkeys(("y", "dX", "dW"), "kernel flipped")),
    "stride_ignored_backward.py:Conv1D": ({}, dict.fromkeys(("dX", "dW"), "ignores the stride")),
    "off_by_one_length.py:Conv1D": (
        {},
        {
            "y": "8 output positions instead of 9",
            "dX": "wrong only in positions 16-18 of 20",
            # the last output position's share of each sum: no factor, format or sample
            "dW": "no explanation leaves rounding only",
            "db": "no explanation leaves rounding only",
        },
    ),
    "ignores_weights.py:Conv1D": ({}, dict.fromkeys(("y", "dX"), "did not take effect")),
    "dx_zeros.py:Conv1D": ({}, {"dX": "never computed"}),
    "overlap_overwrite.py:Conv1D": ({}, {"dX": "where windows overlap"}),
    "db_wrong_axis.py:Conv1D": ({}, {"db": "one value per output channel"}),
    "one_sample_dw.py:Conv1d": ({}, dict.fromkeys(("dW", "db"), "sample 0's contribution only")),
    # its backward folds the padding's gradient into the edge samples, as replicate would
    "padding_edges.py:Conv1d": ({"padding": 1}, {"dX": "pads the input in replicate"}),
    "bias_forgotten.py:Conv1d": ({}, {"y": "bias is missing"}),
    "float32_compute.py:Conv1d": (
        {},
        dict.fromkeys(("y", "dX", "dW", "db"), "only to float32 precision"),
    ),
    "wrong_dtype.py:Conv1d": ({}, {"y": "returned as float32"}),
    "batch_mean_dw.py": ({}, dict.fromkeys(("dW", "db"), "averaged over the batch")),
    "dw_axes_swapped.py": ({}, {"dW": "axes [0, 1] swapped"}),
    "nan_output.py": ({}, {"y": "NaN in 36 of 324 elements, first at (0, 0, 8)"}),
}


def diagnosed(result) -> dict[str, str]:
    """The diagnosis by tensor: {"dX": "errors only where ..."} (the consistency line apart)."""
    found = dict(line.split(": ", 1) for line in result.diagnosis)
    found.pop("consistency", None)
    return found


def impl(name: str, folder: str) -> str:
    """The corpus file `{folder}_{name}` (folder: "correct" or "broken")."""
    return f"{LAYERS / folder}_{name}"


OTHER_CASE = {"dtype": "float32", "kernel_size": 4, "stride": 3}


@pytest.mark.parametrize(
    ("name", "convention", "params"),
    [(name, convention, {}) for name, convention in CORRECT.items()]
    # the verbatim notebook layer returns float64 whatever it gets: checked below
    + [(n, c, OTHER_CASE) for n, c in CORRECT.items() if not n.startswith("notebook")],
)
def test_correct_layers_pass_in_their_detected_convention(name, convention, params):
    result = check(impl=impl(name, "correct"), **params)
    assert result.status == "pass", result.message
    assert result.convention == convention


def test_the_notebook_layer_verbatim_passes_at_the_command_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--impl", impl("notebook_seed.py:Conv1D", "correct")])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "layer: seed" in out
    assert out.count("PASS") == 5  # four tensors and the verdict


def test_float64_outputs_in_a_float32_check_fail_with_the_dtype_named():
    """The notebook allocates with np.zeros(shape): right values, torch's dtype is not kept."""
    result = check(impl=impl("notebook_seed.py:Conv1D", "correct"), dtype="float32")
    assert result.status == "fail"
    assert all(error.passed for error in result.errors.values())
    assert "y: dtype float64 in a float32 check" in result.message
    assert "the values are right but the dtype is float64" in result.diagnosis[0]


@pytest.mark.parametrize(("name", "expected"), BROKEN.items())
def test_broken_layers_fail_with_the_right_diagnosis(name, expected):
    params, words = expected
    result = check(impl=impl(name, "broken"), **params)
    assert result.status == "fail"
    found = diagnosed(result)
    assert set(found) == set(words), result.diagnosis
    assert all(words[name] in line for name, line in found.items()), result.diagnosis


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("stride_ignored_backward.py:Conv1D", {"stride": 1}),
        ("one_sample_dw.py:Conv1d", {"batch": 1}),
        ("overlap_overwrite.py:Conv1D", {"kernel_size": 2, "stride": 2}),
        ("bias_forgotten.py:Conv1d", {"bias": False}),
        ("padding_edges.py:Conv1d", {"padding": 0}),
        ("wrong_dtype.py:Conv1d", {"dtype": "float32"}),
    ],
)
def test_a_bug_that_the_case_does_not_reach_passes(name, params):
    result = check(impl=impl(name, "broken"), **params)
    assert result.status == "pass", result.message


def test_a_parameter_the_constructor_lacks_skips_the_case_with_the_reason():
    result = check(impl=impl("no_padding_support.py:Conv1D", "broken"), padding=2)
    assert result.status == "skip"
    assert result.message == "the layer's constructor takes no padding=2 (run with --padding 0)"
    assert check(impl=impl("no_padding_support.py:Conv1D", "broken")).status == "pass"


def test_a_layer_with_a_bias_always_runs_a_no_bias_case_with_zero_bias():
    result = check(impl=impl("mytorch_v1.py:Conv1D", "correct"), bias=False)
    assert result.status == "pass"
    assert "db" not in result.errors


def test_accumulating_gradients_are_reported_as_a_convention_not_a_failure():
    result = check(impl=impl("mytorch_v1_accumulating.py:Conv1D", "correct"))
    assert result.status == "pass"
    assert result.notes == [
        "gradients accumulate across backward calls, like torch's .grad (reset them)"
    ]
    overwriting = check(impl=impl("mytorch_v1.py:Conv1D", "correct"))
    assert overwriting.notes == ["gradients are overwritten on every backward call"]


def test_a_missing_gradient_is_a_failing_row():
    result = check(impl=impl("missing_gradient.py:Conv1D", "broken"))
    assert result.status == "fail"
    assert result.message == "dW: the layer gave no dW"
    assert "dW" not in result.errors and result.errors["dX"].passed


def test_an_exception_is_an_error_row_naming_the_users_line():
    result = check(impl=impl("raises.py:Conv1d", "broken"))
    assert result.status == "error"
    assert result.message.startswith("IndexError: index 9 is out of bounds")
    assert "raises.py:" in result.message and "in Conv1d.backward" in result.message


def test_a_hang_is_stopped_by_the_timeout():
    result = check(impl=impl("hangs.py:Conv1D", "broken"), timeout=1)
    assert result.status == "error"
    assert result.message.startswith("timed out after 1 s")
    assert result.seconds < 10


def test_a_dying_process_is_an_error_row_with_what_it_printed():
    result = check(impl=impl("crashes.py:Conv1D", "broken"))
    assert result.status == "error"
    assert "exited with code 3" in result.message
    assert "backward reached" in result.layer_output


def test_what_the_layer_prints_is_captured_never_mixed_into_the_json(capfd):
    with pytest.raises(SystemExit) as exit_:
        main(["--impl", impl("prints.py:Conv1d", "broken"), "--json"])
    out = capfd.readouterr().out
    record = json.loads(out)["cases"][0]  # stdout is the JSON document and nothing else
    assert exit_.value.code == 0
    assert record["status"] == "pass"
    assert record["layer_output"].startswith("Conv1d_stride1.forward A (3, 8, 20)")


def test_each_check_of_a_layer_that_prints_has_its_output_from_the_worker_it_reuses(tmp_path):
    """The worker serves check after check: each case's printed output is its own, read to the
    end before the reply is taken (a reused worker once lost it to the next request)."""
    layer = tmp_path / "talks.py"
    layer.write_text(
        "import sys\nimport numpy as np\n\n"
        "class Talks:\n"
        "    def __init__(self, in_channel, out_channel, kernel_size, stride):\n"
        "        self.W, self.b = np.zeros((out_channel, in_channel, kernel_size)), None\n"
        "    def __call__(self, x):\n"
        "        print('to stderr', file=sys.stderr)\n"
        "        print('to stdout')\n"
        "        return np.zeros((x.shape[0], self.W.shape[0], 1))\n"
    )
    outputs = [check(impl=f"{layer}:Talks", only="y").layer_output for _ in range(3)]
    assert outputs == ["to stderr\nto stdout\n"] * 3


def test_a_failing_checks_run_and_consistency_measurement_share_one_worker(monkeypatch):
    """The run detects the convention; the measurement that follows names it, and still goes to
    the worker that ran the case (it once started a second one, 0.2 s per failing check)."""
    started = []
    original = isolation.LayerProcess.__init__
    monkeypatch.setattr(
        isolation.LayerProcess,
        "__init__",
        lambda self, memory: started.append(memory) or original(self, memory),
    )
    isolation.close_all()
    result = check(impl=impl("flipped_kernel.py:Conv1D", "broken"))
    assert result.status == "fail" and result.consistency  # the measurement ran
    assert len(started) == 1


def test_the_run_carries_on_after_a_broken_layer():
    """A crash or a hang ends the layer's worker; the next case gets a new one, unharmed."""
    statuses = [
        check(impl=impl(name, folder), timeout=2).status
        for name, folder in [
            ("crashes.py:Conv1D", "broken"),
            ("hangs.py:Conv1D", "broken"),
            ("mytorch_v1.py:Conv1D", "correct"),
        ]
    ]
    assert statuses == ["error", "error", "pass"]


@pytest.mark.parametrize(("name", "convention"), CORRECT.items())
def test_detect_names_each_convention(name, convention):
    assert detect(load(impl(name, "correct"))) == convention


def test_convention_override_beats_detection():
    """The seed layer driven as a generic layer: constructor by names, W and dW by attribute."""
    result = check(impl=impl("vectorised_im2col.py:Conv1D", "correct"), convention="layer")
    assert result.convention == "layer"
    assert result.status == "pass", result.message


def test_a_module_path_with_a_sibling_import(tmp_path, monkeypatch):
    """`package.module:Name`, from the working directory; the module imports its sibling."""
    package = tmp_path / "course"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = (LAYERS / "correct_vectorised_im2col.py").read_text()
    (package / "conv_impl.py").write_text(source)
    (package / "conv.py").write_text("from course.conv_impl import Conv1D as MyConv\n")
    monkeypatch.chdir(tmp_path)
    result = check(impl="course.conv:MyConv")
    assert (result.status, result.convention) == ("pass", "seed")


def test_a_file_importing_its_sibling_module(tmp_path):
    (tmp_path / "helpers.py").write_text((LAYERS / "correct_vectorised_im2col.py").read_text())
    (tmp_path / "mine.py").write_text("from helpers import Conv1D\n")
    assert check(impl=f"{tmp_path / 'mine.py'}:Conv1D").status == "pass"


def test_weights_that_cannot_be_put_in_make_an_error_row(tmp_path):
    layer = tmp_path / "frozen.py"
    layer.write_text(
        textwrap.dedent(
            """
            import numpy as np

            class Conv1D:
                def __init__(self, in_channel, out_channel, kernel_size, stride):
                    self.W = np.zeros((out_channel, in_channel + 1, kernel_size))
                    self.b = np.zeros(out_channel)

                def __call__(self, x):
                    return x

                def backward(self, delta):
                    return None, None, None
            """
        )
    )
    result = check(impl=f"{layer}:Conv1D")
    assert result.status == "error"
    assert (
        result.message
        == "Conv1D.W has shape (12, 9, 3), expected (12, 8, 3) (or another shape of 288 elements)"
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("no/such/file.py:Conv1D", "no such file"),
        ("tests/layers/correct_mytorch_v1.py:Conv2D", "defines no 'Conv2D'"),
        ("no_such_package.module:Conv1D", "no module named 'no_such_package'"),
    ],
)
def test_an_impl_that_does_not_exist_is_a_usage_error(value, words, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--impl", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("Error: --impl: ") and words in err
    assert len(err.strip().splitlines()) == 1


BASES = {
    "notebook_seed.py:Conv1D": "seed",
    "mytorch_v1.py:Conv1D": "mytorch",
    "mytorch_v2.py:Conv1d": "mytorch",
    "layer_params.py:Conv1d": "layer",
    "layer_plain.py:Conv1d": "layer",
    "functional.py": "functional",
}
# bug in tests/layers/mutate.py: (the failing tensors, words their diagnosis must contain)
MUTANTS = {
    "never_computed": ("dX", "never computed"),
    "sign_flipped": ("dX", "sign flipped"),
    "batch_mean": ("dW db", "averaged over the batch instead of summed"),
    "float32": ("dW", "only to float32 precision"),
    "first_sample_only": ("dX", "right for sample 0 only"),
    "short_output": ("y", "8 output positions instead of 9"),
    "nan_output": ("y", "NaN in 36 of 324 elements"),
    "float16_output": ("y", "only to float16 precision"),
    "last_sample_dropped": ("dX", "right for samples 0-1 only; sample 2 is all zeros"),
    "times_kernel_size": ("dW", "3 (K, the kernel size) times the truth"),
}


@pytest.fixture(scope="module")
def mutants(tmp_path_factory) -> dict[tuple[str, str], str]:
    """Each bug of tests/layers/mutate.py in each base layer, as an --impl: the bugs of a class
    side by side in one file (one worker serves them all), a functional module's one a file."""
    folder = tmp_path_factory.mktemp("mutants")
    found = {}
    for base in BASES:
        file, _, name = base.partition(":")
        module = file.removesuffix(".py")
        head = f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        if name:
            lines = [head, "from mutate import mutant\n", f"from correct_{module} import {name}\n"]
            lines += [f"{bug} = mutant({name}, {bug!r})\n" for bug in MUTANTS]
            path = folder / f"mutants_of_{module}.py"
            path.write_text("".join(lines))
            found |= {(base, bug): f"{path}:{bug}" for bug in MUTANTS}
            continue
        for bug in MUTANTS:
            path = folder / f"{bug}_{module}.py"
            path.write_text(
                f"{head}from mutate import mutant_functions\nimport correct_{module} as base\n"
                f"forward, backward = mutant_functions(base, {bug!r})\n"
            )
            found[base, bug] = str(path)
    return found


@pytest.mark.parametrize("bug", MUTANTS)
@pytest.mark.parametrize(("base", "convention"), BASES.items())
def test_each_bug_is_diagnosed_in_each_convention(mutants, base, convention, bug):
    tensors, words = MUTANTS[bug]
    result = check(impl=mutants[base, bug])
    assert (result.status, result.convention) == ("fail", convention), result.message
    found = diagnosed(result)
    assert set(found) == set(tensors.split()), result.diagnosis
    assert all(words in line for line in found.values()), result.diagnosis


def test_gradients_returned_in_another_order_are_named(tmp_path):
    layer = tmp_path / "reordered.py"
    layer.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_vectorised_im2col import Conv1D as Base\n\n"
        "class Conv1D(Base):\n"
        "    def backward(self, delta):\n"
        "        db, dW, dX = super().backward(delta)\n"
        "        return dX, dW, db\n"
    )
    result = check(impl=f"{layer}:Conv1D")
    assert result.status == "fail"
    assert result.diagnosis[0].startswith("dX: has the shape of db (12,)")
    assert "seed returns (db, dW, dX)" in result.diagnosis[1]


def fails_when(bug: str, kernel_size: int, stride: int, length: int) -> set[str]:
    """The tensors each bug breaks on a shape, worked out from what the bug is."""
    windows = (length - kernel_size) // stride + 1
    return {
        "overlap_overwrite": {"dX"} if kernel_size > stride and windows > 1 else set(),
        "db_wrong_axis": {"db"},
        "stride_ignored_backward": {"dX", "dW"} if stride > 1 and windows > 1 else set(),
        "flipped_kernel": {"y", "dX", "dW"},
    }[bug]


CROSS_SHAPE = {
    "overlap_overwrite": "where windows overlap",
    "db_wrong_axis": "(axes 0 and 2), one value per output channel",
    "stride_ignored_backward": "ignores the stride",
    "flipped_kernel": "kernel flipped",
}


@pytest.mark.parametrize("length", (7, 16))
@pytest.mark.parametrize("stride", (1, 2, 3))
@pytest.mark.parametrize("kernel_size", (2, 3, 5))
@pytest.mark.parametrize("bug", CROSS_SHAPE)
def test_every_shape_a_bug_reaches_fails_with_its_diagnosis(bug, kernel_size, stride, length):
    """Over kernel sizes, strides and lengths (batch = C_out included): one bug, one name,
    exactly where the bug changes something."""
    name = "Conv1D"
    result = check(
        impl=impl(f"{bug}.py:{name}", "broken"),
        in_channels=3,
        out_channels=2,
        batch=2,
        kernel_size=kernel_size,
        stride=stride,
        length=length,
    )
    broken = fails_when(bug, kernel_size, stride, length)
    assert result.status == ("fail" if broken else "pass"), result.message
    found = diagnosed(result)
    assert set(found) == broken, result.diagnosis
    assert all(CROSS_SHAPE[bug] in line for line in found.values()), result.diagnosis
