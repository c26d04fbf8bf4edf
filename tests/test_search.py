"""--search: explore the space for a failing case, shrink it to the smallest, deterministically."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conv1d_check.check.case import Case
from conv1d_check.check.verify import run_case
from conv1d_check.cli import app
from conv1d_check.sweep.search import search, unsupported

LAYERS = Path(__file__).parent / "layers"
runner = CliRunner()


def impl(name: str) -> str:
    return f"{LAYERS / name}"


def test_a_backward_ignoring_the_stride_shrinks_to_one_channel_one_sample_stride_2():
    found = search(Case(impl=impl("broken_stride_ignored_backward.py:Conv1D")), 200, 10, run_case)
    case = found.failure.case
    assert (case.in_channels, case.out_channels, case.batch, case.stride) == (1, 1, 1, 2)
    assert case.kernel_size == 1 and found.failure.status == "fail"


def test_the_same_seed_finds_the_same_case_and_another_seed_may_differ():
    layer = Case(impl=impl("broken_overlap_overwrite.py:Conv1D"))
    first = search(layer, 100, 3, run_case)
    again = search(layer, 100, 3, run_case)
    assert first.failure.id == again.failure.id and first.runs == again.runs


def test_what_the_layer_cannot_take_is_learnt_before_the_search():
    seed_layer = Case(impl=impl("correct_notebook_seed.py:Conv1D"))
    assert unsupported(seed_layer, run_case) == {"padding", "padding_mode", "dilation", "groups"}
    assert unsupported(Case(impl=impl("correct_layer_params.py:Conv1d")), run_case) == {
        "padding_mode"
    }


def test_a_passing_search_says_what_it_covered():
    result = runner.invoke(app, ["--search", "30", "--dtype", "float32"])
    assert result.exit_code == 0, result.stdout
    assert re.search(r"search: 30 case\(s\) judged, \d+ skipped; none failed", result.stdout)
    assert "  batch: 1-4" in result.stdout and "  padding: " in result.stdout
    assert result.stdout.splitlines()[-1].startswith("PASS: the search found no failing case")


def test_a_failing_search_prints_the_command_and_the_numbers_to_trace():
    result = runner.invoke(
        app, ["--impl", impl("broken_stride_ignored_backward.py:Conv1D"), "--search", "50"]
    )
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[1] == (
        f"  conv1d-check --in 1 --out 1 -k 1 --no-bias -n 1 -l 3 --impl "
        f"{impl('broken_stride_ignored_backward.py:Conv1D')}"
    )
    for part in ("inputs x (1, 1, 3):", "truth dX (1, 1, 3):", "layer dX (1, 1, 3):"):
        assert part in lines
    assert lines[-1].startswith("FAIL: a failing case, found and shrunk in")


@pytest.mark.parametrize("budget", ["0", "-3"])
def test_a_search_budget_must_be_positive(budget):
    result = runner.invoke(app, ["--search", budget])
    assert result.exit_code == 2
