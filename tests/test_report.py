"""Failures a person can read at sweep scale: groups, patterns, the smallest case as a command,
quiet output, the layer's prints once; and the reports for machines: JSON, Markdown, JUnit,
and shards merged by `conv1d-check report`."""

import functools
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conv1d_check.check.case import Case
from conv1d_check.check.result import CaseResult, Status
from conv1d_check.cli import app, command_line, main
from conv1d_check.report.groups import natural_key, pattern

LAYERS = Path(__file__).parent / "layers"
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_job_summary(monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1", "COLUMNS": "150"})


@functools.cache
def sweep(layer: str, *args):
    """The 160 cases of mytorch on `layer`: run once per module for the same arguments."""
    return invoke("--config", "mytorch", "--impl", LAYERS / layer, *args)


def test_ids_sort_naturally():
    ids = ["in1-l16", "in1-l7", "in10-l7", "in2-l7"]
    assert sorted(ids, key=natural_key) == ["in1-l7", "in1-l16", "in2-l7", "in10-l7"]


@pytest.mark.parametrize(
    ("failing", "expected"),
    [
        (lambda c: c.stride >= 2, "fails exactly when stride >= 2"),
        (lambda c: c.padding_mode == "reflect", "fails exactly when padding_mode = reflect"),
        (lambda c: c.kernel_size > c.stride, "fails exactly when windows overlap"),
        (lambda c: c.stride == 3 and c.batch >= 2, "fails exactly when stride >= 3 and batch >= 2"),
    ],
)
def test_the_pattern_that_separates_the_failures_is_found_from_the_cases(failing, expected):
    cases = [
        Case(stride=s, kernel_size=k, batch=n, padding_mode=m, padding=1)
        for s in (1, 2, 3)
        for k in (1, 3)
        for n in (1, 2)
        for m in ("zeros", "reflect")
    ]
    found = pattern([c for c in cases if failing(c)], [c for c in cases if not failing(c)])
    assert found.startswith(expected)


def test_nothing_separates_failures_scattered_at_random():
    cases = [Case(seed=seed) for seed in range(6)]
    assert pattern(cases[::2], cases[1::2]) == ""


def test_a_failing_sweep_with_quiet_is_one_line_per_group_and_the_verdict():
    result = sweep("broken_stride_ignored_backward.py:Conv1D", "-q")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1 and len(lines) == 2, result.stdout
    what, where, smallest = lines[0].split("; ")
    assert what.startswith("FAIL 100 case(s): dX: matches a backward that ignores the stride")
    assert where == "fails exactly when stride >= 2 and there are several output positions"
    assert smallest.startswith("smallest: conv1d-check --in 1 --out 2 -k 1 -s 4 -n 2 -l 7 --impl ")
    assert lines[-1].startswith("FAIL: 160 case(s), 60 pass, 100 fail in")


def test_the_smallest_command_reproduces_the_failure():
    result = sweep("broken_stride_ignored_backward.py:Conv1D", "-q")
    command = result.stdout.splitlines()[0].split("; smallest: conv1d-check ")[1].split()
    again = invoke(*command, "-q")
    assert again.exit_code == 1 and "FAIL: 1 case(s), 1 fail" in again.stdout


def test_a_layer_that_prints_is_shown_once_and_briefly(tmp_path):
    """The prints layer is right: a passing sweep of it shows none of its output; a failing one
    shows the smallest case's output of each failure group, a few lines of it."""
    config = tmp_path / "six.toml"
    config.write_text("[[grid]]\nkernel_size = [1, 2, 3]\nstride = [1, 2]\n")
    layer = ("--config", config, "--impl", LAYERS / "broken_prints.py:Conv1d")
    quiet = invoke(*layer, "-q")
    assert quiet.exit_code == 0 and len(quiet.stdout.splitlines()) == 1
    strict = ("--atol", "0", "--rtol", "0")  # no rounding allowed: the layer's cases fail
    groups = json.loads(invoke(*layer, *strict, "--json").stdout)["groups"]
    shown = invoke(*layer, *strict).stdout
    assert shown.count("the layer printed:") == len(groups) >= 1
    assert "more line(s); all of it in --json" in shown
    assert len(shown.splitlines()) < 60 * len(groups)


def test_max_failures_stops_the_sweep_and_says_so(tmp_path):
    result = sweep("broken_bias_forgotten.py:Conv1d", "-q", "--max-failures", "5")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert "stopped after 5 failing case(s) (--max-failures): 155 case(s) did not run" in lines
    assert lines[-1].startswith("FAIL: 5 of 160 case(s) finished, 5 fail in")


def test_the_json_has_a_summary_and_the_groups():
    result = sweep("broken_stride_ignored_backward.py:Conv1D", "--json")
    document = json.loads(result.stdout)
    assert document["summary"] == {
        "total": 160,
        "passed": 60,
        "failed": 100,
        "errored": 0,
        "skipped": 0,
    }
    (found,) = document["groups"]
    assert found["count"] == 100 and len(found["cases"]) == 100
    assert found["pattern"].startswith("fails exactly when stride >= 2")
    assert found["command"].startswith("conv1d-check --in 1 --out 2 -k 1 -s 4 -n 2 -l 7 --impl ")
    assert found["cases"] == sorted(found["cases"], key=natural_key)


def test_markdown_is_written_and_appended_to_the_github_job_summary(tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    path = tmp_path / "report.md"
    result = runner.invoke(
        app,
        [
            "--config",
            "mytorch",
            "--impl",
            f"{LAYERS / 'broken_dx_zeros.py'}:Conv1D",
            "-q",
            "--markdown",
            str(path),
        ],
    )
    assert result.exit_code == 1
    text = path.read_text()
    assert text.startswith("## conv1d-check mytorch: FAIL\n")
    assert "**160 case(s)**: 0 passed, 160 failed, 0 errored, 0 skipped" in text
    assert "### 160 fail case(s): dX: all zeros: never computed" in text
    assert "| dX | (2, 1, 7) | " in text and "```bash\nconv1d-check " in text
    assert summary.read_text() == "earlier step\n" + text


def test_junit_leads_with_the_diagnosis_and_carries_the_parameters(tmp_path):
    path = tmp_path / "junit.xml"
    invoke("--impl", f"{LAYERS / 'broken_dx_zeros.py'}:Conv1D", "--junit", path)
    (testcase,) = ET.parse(path).getroot().iter("testcase")
    failure = testcase.find("failure")
    assert failure.get("message") == "dX: all zeros: never computed"
    assert "exceed the allowed error" in failure.text
    properties = {p.get("name"): p.get("value") for p in testcase.iter("property")}
    assert properties["kernel_size"] == "3" and properties["impl"].endswith(
        "broken_dx_zeros.py:Conv1D"
    )


def test_layer_output_with_control_characters_is_made_safe(tmp_path):
    layer = tmp_path / "noisy.py"
    layer.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_layer_plain import Conv1d as Base\n\n"
        "class Conv1d(Base):\n"
        "    def forward(self, x):\n"
        "        print('\\x1b[2J\\x07\\x00 bell and clear')\n"
        "        return super().forward(x) * 2\n"
    )
    junit = tmp_path / "junit.xml"
    result = invoke("--impl", f"{layer}:Conv1d", "--junit", junit)
    assert "\x1b" not in result.stdout and "\\x1b[2J\\x07\\x00 bell" in result.stdout
    ET.parse(junit)  # parsable XML, the NUL replaced


def main_of(*args, capsys):
    """Run the console entry point (which dispatches `report`): (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


# Seven small cases (a shard of three gets two or three), failing with stride 2 for a layer that
# ignores the stride in backward.
SHARDED = "[defaults]\nin = 2\nout = 2\nlength = 9\n[[grid]]\nkernel_size = [1, 2, 3]\n"
SHARDED += "stride = [1, 2]\n[[case]]\nstride = 3\n"


def small_sweep(tmp_path, layer: str, *args):
    config = tmp_path / "sharded.toml"
    config.write_text(SHARDED)
    return invoke("--config", config, "--impl", LAYERS / layer, *args)


def shard_files(tmp_path, layer):
    paths = []
    for index in (1, 2, 3):
        path = tmp_path / f"shard{index}.jsonl"
        small_sweep(tmp_path, layer, "--shard", f"{index}/3", "--output", path, "-q")
        paths.append(path)
    return paths


def test_three_shards_merged_by_report_give_the_whole_sweeps_summary(tmp_path, capsys):
    layer = "broken_stride_ignored_backward.py:Conv1D"
    whole = json.loads(small_sweep(tmp_path, layer, "--json").stdout)
    assert whole["summary"]["passed"] == 3 and whole["summary"]["failed"] == 4
    code, out, _ = main_of("report", *shard_files(tmp_path, layer), "--json", capsys=capsys)
    assert code == 1
    document = json.loads(out)
    assert document["summary"] == whole["summary"]
    assert document["groups"][0]["cases"] == whole["groups"][0]["cases"]
    assert document["verdict"] == "FAIL"


def test_report_counts_a_case_found_twice_once(tmp_path, capsys):
    paths = shard_files(tmp_path, "correct_layer_plain.py:Conv1d")
    code, out, err = main_of("report", *paths, paths[0], "-q", capsys=capsys)
    assert code == 0
    assert out.splitlines()[-1].startswith("PASS: 7 case(s), 7 pass")
    assert "recorded more than once, alike, counted once" in err


def test_report_imports_no_torch_and_refuses_a_missing_file(tmp_path):
    path = tmp_path / "one.jsonl"
    invoke("--output", path, "-q")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "conv1d_check", "report", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not any(name.split(".")[0] == "torch" for name in imported)
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path / "missing.jsonl")])
    assert exit_.value.code == 2


def test_command_line_sets_what_differs_from_the_defaults():
    case = Case(
        in_channels=1,
        out_channels=1,
        batch=1,
        stride=2,
        bias=False,
        padding="same",
        dtype="float32",
        impl="my.py:Conv1D",
    )
    assert command_line(case) == (
        "conv1d-check --in 1 --out 1 --padding same --no-bias -n 1 --dtype float32 "
        "--impl my.py:Conv1D"
    )


def test_a_case_result_without_diagnosis_is_grouped_by_its_failing_tensors():
    from conv1d_check.check.tolerance import TensorError
    from conv1d_check.report.groups import group

    failing = TensorError(1.0, 1.0, 0.1, 3, 4, (0,))
    results = [CaseResult(Case(seed=s), Status.FAIL, errors={"dW": failing}) for s in (1, 2)]
    (found,) = group(results)
    assert found.what == ["dW fails, with no diagnosis"] and len(found.results) == 2


def test_one_bug_is_one_group_whether_or_not_the_case_has_a_bias(tmp_path):
    """The notebook's layer returns float64 in a float32 check: every tensor, db among them
    where there is a bias. A case without bias has no db, and once made a group of its own with
    the same words."""
    config = tmp_path / "bias.toml"
    config.write_text('[defaults]\ndtype = "float32"\nstride = 1\n[[grid]]\nbias = [true, false]\n')
    result = invoke("--config", config, "--impl", LAYERS / "correct_notebook_seed.py:Conv1D", "-q")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1 and len(lines) == 2, result.stdout
    assert lines[0].startswith("FAIL 2 case(s): y: the values are right but the dtype is float64")


def test_conditions_the_cases_cannot_tell_apart_are_named_together():
    """Every strided case also had the longer kernel: naming one as the cause would be a guess."""
    cases = [
        Case(stride=s, kernel_size=k, seed=seed) for s, k in ((1, 1), (2, 3)) for seed in (1, 2)
    ]
    found = pattern([c for c in cases if c.stride == 2], [c for c in cases if c.stride == 1])
    assert "kernel_size >= 3" in found and "stride >= 2" in found
    assert found.endswith(": the cases checked do not tell)")
