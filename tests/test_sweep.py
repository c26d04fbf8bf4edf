"""Sweeps: skips, parallel jobs, shards, the results file, resuming and interruptions."""

import json
import signal
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conv1d_check.check.result import CaseResult, from_record
from conv1d_check.cli import app, main
from conv1d_check.report.progress import SweepProgress
from conv1d_check.sweep import runner as sweep
from conv1d_check.sweep.config import load
from conv1d_check.sweep.plan import Plan

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "tests" / "layers"
runner = CliRunner()

# 13 cases: a grid of 12 quick ones, 3 of them skipped ('same' with stride 2), and one large
# enough for the BLAS thread count to change dW's last bits (the jobs test needs that).
SWEEP = """
[defaults]
in = 2
out = 3
batch = 2
length = 12
[[grid]]
kernel_size = [1, 3, 4]
stride = [1, 2]
padding = [0, "same"]
[[case]]
in = 16
out = 32
length = 1024
batch = 4
stride = 1
dtype = "float32"
"""
SLOW_LAYER = """
import sys, time
sys.path.insert(0, {folder!r})
from correct_vectorised_im2col import Conv1D as Correct

class Conv1D(Correct):
    def __call__(self, x):
        time.sleep({seconds})
        return super().__call__(x)
"""


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    return path


def slow_layer(tmp_path: Path, seconds: float) -> str:
    path = tmp_path / "slow.py"
    path.write_text(SLOW_LAYER.format(folder=str(LAYERS), seconds=seconds))
    return f"{path}:Conv1D"


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1"})


def cases(stdout: str) -> list[dict]:
    """The --json document's cases, less their timings."""
    return [{k: v for k, v in c.items() if k != "seconds"} for c in json.loads(stdout)["cases"]]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_skips_are_counted_and_listed_on_request(config):
    result = invoke("--config", config)
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[-2:] == [
        "3 case(s) skipped (--list-skipped lists them and why)",
        out[-1],
    ] and out[-1].startswith("PASS: 13 case(s), 10 pass, 3 skip in")
    assert "┃ tensor" not in result.stdout  # a sweep shows tables of failures only
    listed = invoke("--config", config, "--list-skipped").stdout
    assert "3 case(s) skipped:" in listed
    assert (
        "  in2-out3-k3-s2-psame-d1-g1-bias-zeros-n2-l12-float64-seed10: not a valid Conv1d: "
        "padding='same' needs stride 1 (got stride=2)" in listed
    )


def test_skips_are_in_the_json_with_their_reason(config):
    found = cases(invoke("--config", config, "--json").stdout)
    skipped = [c for c in found if c["status"] == "skip"]
    assert len(found) == 13 and len(skipped) == 3
    assert all("errors" not in c and c["message"].startswith("not a valid Conv1d") for c in skipped)
    assert [c["id"] for c in found] == sorted(c["id"] for c in found)


def test_two_workers_give_the_results_of_one_process_values_and_order(config):
    plan = Plan(load(config))
    one, two = sweep.run(plan, jobs=1), sweep.run(plan, jobs=2)
    assert (one.workers, two.workers) == (1, 2)  # the pool ran, and both its workers served
    assert [r.to_record() | {"seconds": 0} for r in one.results] == [
        r.to_record() | {"seconds": 0} for r in two.results
    ]


def test_a_sweep_too_small_for_workers_runs_in_one_process_and_a_larger_one_in_two(config):
    small = load(config)
    work = sum(sweep.estimated_seconds(entry.case) for entry in small if not entry.skip)
    assert work < sweep.WORTH_WORKERS  # 10 small cases: workers would not pay
    assert sweep.worker_count(2, small).count == 1
    large = small * (int(sweep.WORTH_WORKERS / work) + 1)  # enough of them, and they do
    assert sweep.worker_count(2, large).count == 2


def test_the_command_line_runs_workers_when_they_pay(config, monkeypatch):
    monkeypatch.setattr(sweep, "WORTH_WORKERS", 0.0)  # every sweep pays for workers
    seen = []
    monkeypatch.setattr(
        sweep, "run", lambda *a, run=sweep.run, **k: seen.append(run(*a, **k)) or seen[-1]
    )
    one = invoke("--config", config, "--json", "--jobs", "1")
    two = invoke("--config", config, "--json", "--jobs", "2")
    assert one.exit_code == two.exit_code == 0, two.output
    assert [run.workers for run in seen] == [1, 2]
    assert cases(one.stdout) == cases(two.stdout)


def test_a_user_layer_runs_isolated_inside_a_worker(tmp_path):
    path = tmp_path / "four.toml"
    path.write_text("[[grid]]\nkernel_size = [2, 3]\nstride = [1, 2]\n")
    impl = LAYERS / "broken_stride_ignored_backward.py"
    result = invoke("--config", path, "--impl", f"{impl}:Conv1D", "--jobs", "2", "--json")
    assert result.exit_code == 1
    status = {c["id"].split("-p0")[0]: c["status"] for c in cases(result.stdout)}
    assert status == {
        "in8-out12-k2-s1": "pass",
        "in8-out12-k2-s2": "fail",
        "in8-out12-k3-s1": "pass",
        "in8-out12-k3-s2": "fail",
    }


def test_failures_are_shown_once_per_group_with_the_smallest_case(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text("[[grid]]\nkernel_size = [2, 3]\nstride = [2]\n")
    impl = LAYERS / "broken_stride_ignored_backward.py"
    result = invoke("--config", path, "--impl", f"{impl}:Conv1D")
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0].startswith("FAIL 2 case(s): dX: matches a backward that ignores the stride")
    assert out[1].startswith("  dW: matches a backward that ignores the stride")
    assert out[2] == f"  smallest: conv1d-check --impl {impl}:Conv1D"  # k 3: 9 outputs, k 2: 10
    assert result.stdout.count("┃ tensor") == 1  # the smallest case's table, once
    assert "  the others: in8-out12-k2-s2-p0-d1-g1-bias-zeros-n3-l20-float64-seed10" in out
    assert out[-1].startswith("FAIL: 2 case(s), 2 fail in")


def test_three_shards_are_disjoint_and_make_the_whole(config, tmp_path):
    whole = cases(invoke("--config", config, "--json").stdout)
    parts = [
        cases(invoke("--config", config, "--json", "--shard", f"{i}/3").stdout) for i in (1, 2, 3)
    ]
    ids = [[c["id"] for c in part] for part in parts]
    assert sum(len(i) for i in ids) == len(whole) and all(ids)
    assert sorted(c["id"] for part in parts for c in part) == [c["id"] for c in whole]
    # round-robin in id order, the cases that run and the skips each on their own
    for status in ("pass", "skip"):
        dealt = [c["id"] for c in whole if c["status"] == status][1::3]
        assert [c["id"] for c in parts[1] if c["status"] == status] == dealt


def test_the_junit_suite_names_the_config_and_shard(config, tmp_path):
    report = tmp_path / "junit.xml"
    assert invoke("--config", config, "--shard", "2/3", "--junit", report).exit_code == 0
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("name") == "conv1d-check sweep shard 2/3"
    assert suite.get("tests") == "4" and suite.get("skipped") == "1"


@pytest.mark.parametrize("shard", ["0/3", "4/3", "1/0", "two/3", "1"])
def test_a_bad_shard_is_one_line_and_exit_2(capsys, shard):
    with pytest.raises(SystemExit) as exit_info:
        main(["--shard", shard])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err == f"Error: --shard: {shard!r}: must be I/N with 1 <= I <= N, e.g. 2/4\n"


def test_resume_without_output_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--resume"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("Error: --resume: needs --output FILE.jsonl")


def test_one_command_line_is_a_sweep_of_one(tmp_path):
    output = tmp_path / "one.jsonl"
    result = invoke("--json", "-k", "5", "--output", output, "--jobs", "2")
    assert result.exit_code == 0
    (record,) = lines(output)
    assert record.pop("run")["shard"] == [1, 1]  # its run's stamp, beside the JSON's record
    assert [record | {"seconds": 0}] == [
        c | {"seconds": 0} for c in json.loads(result.stdout)["cases"]
    ]


def test_the_output_file_has_a_line_per_case_as_the_json_has(config, tmp_path):
    output = tmp_path / "results.jsonl"
    result = invoke("--config", config, "--json", "--output", output)
    written = sorted(lines(output), key=lambda c: c["id"])
    assert all(c.pop("run")["planned"] == len(written) for c in written)  # and its run's stamp
    assert [{k: v for k, v in c.items() if k != "seconds"} for c in written] == cases(result.stdout)


def test_resuming_after_a_cut_line_and_lost_lines_gives_the_uninterrupted_result(config, tmp_path):
    output = tmp_path / "results.jsonl"
    whole = invoke("--config", config, "--json", "--output", output)
    text = output.read_text().splitlines(keepends=True)
    kept = text[:2] + text[4:7]  # two lines lost, then a kill in the middle of the eighth
    output.write_text("".join(kept) + text[7][: len(text[7]) // 2])
    resumed = invoke("--config", config, "--json", "--output", output, "--resume")
    assert resumed.exit_code == 0
    assert cases(resumed.stdout) == cases(whole.stdout)
    assert "resumed: 5 case(s) read from" in resumed.stderr
    records = lines(output)  # every line whole again, each case once
    assert sorted(r["id"] for r in records) == sorted(c["id"] for c in cases(whole.stdout))
    assert records[:5] == [json.loads(line) for line in kept]


def test_resuming_a_finished_sweep_runs_nothing(config, tmp_path):
    output = tmp_path / "results.jsonl"
    invoke("--config", config, "--output", output)
    before = output.read_text()
    again = invoke("--config", config, "--output", output, "--resume", "-q")
    assert again.exit_code == 0 and output.read_text() == before
    assert again.stdout.startswith("3 case(s) skipped")


def test_a_broken_line_before_the_last_stops_the_resume(config, tmp_path, capsys):
    output = tmp_path / "results.jsonl"
    output.write_text('{"id": "x", "params": {}, "status": "pass"}\nnot json\n{"id": "y"}\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config), "--output", str(output), "--resume"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "line 1 is not a case's record (id 'x' does not match its params" in err
    assert output.read_text().startswith('{"id": "x"')  # refused, and left as it was


def test_recorded_results_read_back_equal(config, tmp_path):
    done = sweep.run(Plan(load(config)), output=tmp_path / "r.jsonl")
    again = [from_record(record) for record in lines(tmp_path / "r.jsonl")]
    assert [r.to_record() for r in sorted(again, key=lambda r: r.id)] == [
        r.to_record() for r in done.results
    ]


def test_a_killed_sweep_keeps_every_finished_line_and_resumes(tmp_path, tool):
    path = tmp_path / "six.toml"
    path.write_text("[defaults]\nstride = 1\n[[grid]]\nkernel_size = [1, 2, 3, 4, 5, 6]\n")
    output = tmp_path / "results.jsonl"
    impl = slow_layer(tmp_path, 0.1)
    args = ["--config", path, "--impl", impl, "--output", output]
    child = tool(*args, env={"TMPDIR": str(tmp_path)})  # where the killed layer's files go
    wait_for_lines(output, 2)
    child.kill()
    child.communicate(timeout=10)
    finished = output.read_text().splitlines()
    assert 2 <= len(finished) < 6
    assert all(json.loads(line)["status"] == "pass" for line in finished[:-1])
    resumed = invoke(*args, "--resume", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert len(cases(resumed.stdout)) == 6 and len(lines(output)) == 6


def test_ctrl_c_keeps_what_finished_prints_a_partial_summary_and_exits_130(tmp_path, tool):
    path = tmp_path / "eight.toml"
    path.write_text("[defaults]\nstride = 1\n[[grid]]\nkernel_size = [1, 2, 3, 4, 5, 6, 7, 8]\n")
    output = tmp_path / "results.jsonl"
    impl = slow_layer(tmp_path, 0.2)
    child = tool("--config", path, "--impl", impl, "--output", output, "--jobs", "2")
    wait_for_lines(output, 1)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert child.returncode == 130, err
    finished = lines(output)  # every line whole
    assert 1 <= len(finished) < 8
    assert f"INTERRUPTED: {len(finished)} of 8 case(s) finished, {len(finished)} pass in" in out
    assert "Traceback" not in err


def wait_for_lines(path: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {count} lines")


def test_progress_in_a_log_is_a_line_at_each_tenth(capsys):
    from rich.console import Console

    from conv1d_check.check.case import Case

    progress = SweepProgress(Console(file=sys.stderr, force_terminal=False), gap=0)
    progress.start(20)
    for status in ["pass"] * 18 + ["fail", "skip"]:
        progress.advance(CaseResult(Case(), status))
    progress.stop()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 10
    assert err[0].startswith("conv1d-check: 2/20 cases (10%), 0 fail, 0 error, 0 skip, ")
    assert err[-1].startswith("conv1d-check: 20/20 cases (100%), 1 fail, 0 error, 1 skip, ")
