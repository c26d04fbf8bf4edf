"""The command line: table, JSON, JUnit, exit codes and one-line usage errors."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from conv1d_check import __version__
from conv1d_check.cli import app, main

runner = CliRunner()
SCRIPT = Path(sys.executable).with_name("conv1d-check")
LAYERS = Path(__file__).parent / "layers"


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "150"})


def test_default_run_prints_a_row_per_tensor_and_passes():
    result = invoke()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for name, shape in [
        ("y", "(3, 12, 9)"),
        ("dX", "(3, 8, 20)"),
        ("dW", "(12, 8, 3)"),
        ("db", "(12,)"),
    ]:
        assert any(
            line.split("│")[1:3] == [f" {name:<6} ", f" {shape:<10} "]
            for line in lines
            if "│" in line
        )
    assert "in8-out12-k3-s2-p0-d1-g1-bias-zeros-n3-l20-float64-seed10" in result.stdout
    assert lines[-1].startswith("PASS: 1 case(s), 1 pass")


def test_desk_example_exits_zero():
    assert invoke("--in", "8", "--out", "12", "-k", "3", "-s", "2").exit_code == 0


def test_output_outside_a_terminal_has_no_control_codes():
    result = runner.invoke(app, ["--dtype", "float32"])
    assert "\x1b" not in result.stdout


def test_json_follows_the_schema():
    result = invoke("--json", "--no-bias", "-n", "2")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["passed"] is True and document["verdict"] == "PASS"
    assert document["summary"] == {"total": 1, "passed": 1, "failed": 0, "errored": 0, "skipped": 0}
    (case,) = document["cases"]
    assert set(case) >= {"id", "params", "status", "errors", "diagnosis", "message"}
    assert case["status"] == "pass" and case["params"]["batch"] == 2
    assert set(case["errors"]) == {"y", "dX", "dW"}  # no db without bias
    y = case["errors"]["y"]
    fields = {"max_abs", "max_rel", "allowed", "mismatched", "total", "worst_index", "share"}
    assert set(y) == fields | {"rule"} and y["rule"] in ("worst case", "√n·u")
    assert y["total"] == 2 * 12 * 9 and len(y["worst_index"]) == 3


def test_quiet_prints_only_the_verdict_when_everything_passes():
    result = invoke("--quiet")
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("PASS")


def test_junit_has_one_testcase_per_case(tmp_path):
    path = tmp_path / "report.xml"
    assert invoke("--junit", str(path), "-k", "5").exit_code == 0
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite.get("tests") == "1" and suite.get("failures") == "0"
    (testcase,) = suite.findall("testcase")
    assert testcase.get("name").startswith("in8-out12-k5-s2")


@pytest.mark.parametrize(
    "args, words",
    [
        (["--in", "0"], "--in: in_channels=0: must be positive"),
        (["--out", "-3"], "--out: out_channels=-3: must be positive"),
        (["-k", "0"], "--kernel-size: kernel_size=0: must be positive"),
        (["-k", "21"], "--kernel-size: kernel_size=21: the kernel spans 21 samples"),
        (["-s", "0"], "--stride: stride=0: must be positive"),
        (["--dilation", "0"], "--dilation: dilation=0: must be positive"),
        (["--dilation", "11"], "--kernel-size: kernel_size=3: the kernel spans 23 samples"),
        (["--groups", "0"], "--groups: groups=0: must be positive"),
        (["--groups", "3"], "--groups: groups=3: must divide in_channels=8"),
        (["--groups", "8"], "--groups: groups=8: must divide out_channels=12"),
        (["--padding", "-1"], "--padding: padding=-1: must be non-negative"),
        (
            ["--padding", "full"],
            "--padding: padding='full': must be a non-negative integer or one of",
        ),
        (["--padding", "same"], "--padding: padding='same' needs stride 1"),
        (["--padding-mode", "mirror"], "--padding-mode: padding_mode='mirror': must be one of"),
        (
            ["--padding", "20", "--padding-mode", "reflect"],
            "--padding: padding=20: reflect padding must be smaller",
        ),
        (
            ["--padding", "21", "--padding-mode", "circular"],
            "--padding: padding=21: circular padding must not exceed",
        ),
        (["-n", "-1"], "--batch: batch=-1: must be non-negative"),
        (["-l", "0"], "--length: length=0: must be positive"),
        (["--dtype", "float16"], "--dtype: dtype='float16': must be one of float64, float32"),
        (["--seed", "-1"], "--seed: seed=-1: must be non-negative"),
        (["--device", "tpu"], "--device: device='tpu': must be one of cpu, cuda"),
        (["--atol", "1e-3"], "--rtol: atol needs rtol"),
        (["--rtol", "1e-3"], "--atol: rtol needs atol"),
        (["--atol", "-1", "--rtol", "0"], "--atol: atol=-1.0: must be non-negative"),
        (["--timeout", "0"], "--timeout: timeout=0.0: must be positive"),
        (["--in", "x"], "Invalid value for '--in'"),
        (["--bogus"], "No such option: --bogus"),
        (["--in"], "Option '--in' requires an argument"),
        (["extra"], "unexpected extra argument"),
    ],
)
def test_bad_usage_is_one_line_on_stderr_and_exit_2(capsys, args, words):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and words in captured.err, captured.err


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the path where CUDA is absent")
def test_cuda_absent_is_a_clear_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--device", "cuda"])
    assert exit_info.value.code == 2
    assert "--device cuda: CUDA is not available" in capsys.readouterr().err


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout == f"conv1d-check {__version__}\n"


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_do_not_import_torch(flag):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "conv1d_check", flag],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "numpy" in imported or "typer" in imported  # the import log is really there
    assert not any(name.split(".")[0] == "torch" for name in imported)


def test_the_installed_console_script_runs_the_notebook_case():
    done = subprocess.run(
        [str(SCRIPT), "--json"], capture_output=True, text=True, env=os.environ | {"NO_COLOR": "1"}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["passed"] is True


def test_the_installed_console_script_reports_bad_usage_on_one_line():
    done = subprocess.run([str(SCRIPT), "--padding", "same"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("Error: --padding:") and done.stderr.count("\n") == 1


def test_a_layer_that_crashes_is_reported_without_importing_torch():
    """torch is imported when a case reaches the oracle: a layer that ends its own process in
    backward (no reply, nothing to judge) is reported without it."""
    impl = f"{LAYERS / 'broken_crashes.py'}:Conv1D"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "conv1d_check", "--impl", impl],
        capture_output=True,
        text=True,
        env=os.environ | {"NO_COLOR": "1"},
    )
    assert done.returncode == 1 and "ERROR" in done.stdout, done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "numpy" in imported  # the import log is really there
    assert not any(name.split(".")[0] == "torch" for name in imported)
