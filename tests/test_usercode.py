"""Layers as their authors write them: their own storage shapes, lists, reused buffers, a
backward not written yet, other layers than a Conv1d, and errors named at the user's line."""

from pathlib import Path

import pytest

from conv1d_check import check
from conv1d_check.cli import main

LAYERS = Path(__file__).parent / "layers"


def layer(name: str) -> str:
    return str(LAYERS / name)


@pytest.mark.parametrize("params", [{}, {"dtype": "float32", "stride": 1, "padding": 2}])
def test_weights_and_bias_in_the_layers_own_shapes_are_written_and_read_back(params):
    result = check(impl=layer("correct_column_storage.py:Conv1d"), **params)
    assert result.status == "pass", result.message
    assert "W is kept as (12, 24), not (12, 8, 3): written and read back in that shape" in (
        result.notes
    )
    assert "b is kept as (12, 1), not (12,): written and read back in that shape" in result.notes


def test_a_column_bias_does_not_hide_a_real_defect():
    """The library computes in float32: that is what the tool must say, not a shape error."""
    result = check(impl=layer("broken_column_storage_float32.py:Conv1d"))
    assert result.status == "fail"
    assert result.diagnosis[0].startswith("y: returned as float32 in a float64 check")


def test_results_returned_as_lists_are_converted_with_a_note():
    result = check(impl=layer("correct_returns_lists.py:Conv1d"))
    assert result.status == "pass", result.message
    assert "y was returned as a list: converted to an array" in result.notes
    assert "dX was returned as a list: converted to an array" in result.notes


def test_a_reused_buffer_and_a_changed_input_are_judged_as_returned_and_noted():
    result = check(impl=layer("correct_reuses_buffers.py:Conv1d"))
    assert result.status == "pass", result.message
    assert any(
        n.startswith("backward changed the array forward returned as y") for n in result.notes
    )
    assert "the layer changed its input dy in place" in result.notes


def test_a_forward_only_layer_shows_y_and_fails_on_the_gradients():
    result = check(impl=layer("forward_only.py:Conv1d"))
    assert result.status == "fail"
    assert result.errors["y"].passed
    assert result.missing == dict.fromkeys(("dX", "dW", "db"), "not implemented")
    assert (
        "dX: not implemented (its backward raised NotImplementedError: TODO: milestone 2)"
        in result.message
    )


def test_only_y_checks_the_forward_pass_alone(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--impl", layer("forward_only.py:Conv1d"), "--only", "y"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 1 and rows[0].split("│")[1].strip() == "y" and "PASS" in rows[0]


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_only_y_never_calls_backward(dtype):
    """A layer whose backward raises passes --only y: its forward alone ran, in its dtype."""
    assert check(impl=layer("broken_raises.py:Conv1d"), dtype=dtype).status == "error"
    result = check(impl=layer("broken_raises.py:Conv1d"), dtype=dtype, only="y")
    assert result.status == "pass" and set(result.errors) == {"y"}, result.message


def test_only_judges_the_named_tensors_and_names_them_in_the_id():
    result = check(impl=layer("broken_dx_zeros.py:Conv1D"), only="y,dW")
    assert result.status == "pass" and set(result.errors) == {"y", "dW"}
    assert result.id.endswith("-only-y-dW")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Conv2d", "Conv2d.W has shape (12, 8, 3, 3), expected (12, 8, 3)"),
        ("Downsample1d", "cannot tell which constructor parameters are in_channels"),
    ],
)
def test_a_layer_that_is_not_a_conv1d_errs_by_what_it_does(name, words):
    result = check(impl=layer(f"not_a_conv1d.py:{name}"))
    assert result.status == "error"
    assert result.message.startswith(words)


def test_a_correct_layer_is_judged_whatever_its_name(tmp_path):
    """Nothing is refused from a name: a correct class called TransposedConv passes."""
    path = tmp_path / "deconv_transpose_pool.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_layer_plain import Conv1d as TransposedConv1dDownsamplePool\n"
    )
    result = check(impl=f"{path}:TransposedConv1dDownsamplePool")
    assert result.status == "pass", result.message


def test_a_convention_that_does_not_fit_the_constructor_says_so(tmp_path):
    """The tool's own troubles never show as the layer's: a five-argument constructor driven
    as the notebook's four-argument one."""
    path = tmp_path / "five.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_layer_plain import Conv1d as Base\n\n"
        "class Conv1d(Base):\n"
        "    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):\n"
        "        super().__init__(in_channels, out_channels, kernel_size, stride, padding)\n"
    )
    result = check(impl=f"{path}:Conv1d", convention="seed")
    assert result.status == "error"
    assert result.message == (
        "the seed convention calls Conv1d(in, out, K, stride), but it takes "
        "(in_channels, out_channels, kernel_size, stride, padding): try --convention layer"
    )
    assert result.layer_output == ""


def test_an_error_inside_numpy_is_named_at_the_users_line():
    result = check(impl=layer("broken_memory.py:Conv1D"))
    assert result.status == "error"
    assert result.message.startswith("MemoryError: ")
    assert result.message.endswith("(broken_memory.py:9 in Conv1D.backward)")


def test_a_layer_that_raises_shows_its_own_frames_and_its_y():
    """The user's frames, innermost last, none of the tool's; the forward ran, so y is judged."""
    result = check(impl=layer("broken_raises.py:Conv1d"))
    assert result.status == "error" and result.errors["y"].passed
    (frame,) = result.traceback
    assert (Path(frame["file"]).name, frame["line"], frame["function"]) == (
        "broken_raises.py",
        14,
        "Conv1d.backward",
    )
    assert frame["code"].startswith("g = grad_out[:, :, i]")
    assert result.to_record()["traceback"] == result.traceback


def test_no_isolation_runs_the_layer_in_this_process(tmp_path):
    """isolate=False: the layer's forward runs in the tool's process (where pdb can reach it),
    and is judged and diagnosed as in a child process."""
    import os

    path = tmp_path / "where.py"
    path.write_text(
        f"import os, sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from broken_dx_zeros import Conv1D as Base\n\n"
        "class Conv1D(Base):\n"
        "    def forward(self, x):\n"
        "        os.environ['CONV1D_CHECK_TEST_PID'] = str(os.getpid())\n"
        "        return super().forward(x)\n"
    )
    result = check(impl=f"{path}:Conv1D", isolate=False)
    assert os.environ.pop("CONV1D_CHECK_TEST_PID") == str(os.getpid())
    assert result.status == "fail" and result.consistency["dX"] is False
    assert next(f.kind for f in result.findings) == "zeros"


def test_a_syntax_error_names_the_file_and_line_once():
    result = check(impl=layer("broken_syntax.py:Conv1D"))
    assert result.status == "error"
    assert result.message == "SyntaxError: expected ':' (broken_syntax.py:4)"
