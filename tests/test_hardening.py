"""Hostile layers and input: nothing of a layer outlives the tool or floods it, bad input is
refused fast with one line and exit 2, and no file is lost. The layers are tests/redteam/."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conv1d_check import check
from conv1d_check.cli import app
from conv1d_check.usercode import isolation

ROOT = Path(__file__).resolve().parents[1]
REDTEAM = ROOT / "tests" / "redteam"
LAYERS = ROOT / "tests" / "layers"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], env={"NO_COLOR": "1"})


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else ""
    )
    return state != "Z"


def gone(pids: list[int], within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def wait_for_pids(probe: Path, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe.exists():
            pids = [int(p) for p in probe.read_text().split()]
            if len(pids) >= count:
                return pids
        time.sleep(0.05)
    raise AssertionError(f"{probe} never named {count} pids")


# ------------------------------------------------------------------ processes


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_killing_the_tool_ends_the_layer_and_what_it_started(tmp_path, how, jobs, tool):
    probe, config = tmp_path / "pids", tmp_path / "two.toml"
    config.write_text("[[grid]]\nkernel_size = [2, 3]\nlength = [2000, 4000]\nbatch = [64]\n")
    args = ["--config", config, "--impl", f"{REDTEAM / 'hangs.py'}:Conv1D", "-j", jobs]
    child = tool(
        *args,
        "--timeout",
        "100",
        env={"CONV1D_CHECK_PROBE": str(probe)} | {"TMPDIR": str(tmp_path)},
    )
    pids = wait_for_pids(probe, 2)  # the layer's process and the sleep it started
    child.send_signal(how)
    _, err = child.communicate(timeout=20)
    assert gone(pids), f"left running after {how.name}: {pids}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pids", "two.toml"]  # no temp file
    assert "Traceback" not in err
    if how == signal.SIGINT:
        assert child.returncode == 130


def test_a_worker_whose_setup_fails_after_it_started_is_ended_not_left(monkeypatch):
    """Out of file descriptors once the worker runs (pidfd_open fails): the worker is killed
    and reaped before the error goes on, its pipes closed."""
    started = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def no_descriptor_left(pid):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    monkeypatch.setattr(os, "pidfd_open", no_descriptor_left)
    with pytest.raises(OSError, match="Too many open files"):
        isolation.LayerProcess(1 << 30)
    (worker,) = [p for p in started if "conv1d_check.usercode.worker" in p.args]
    assert worker.returncode == -signal.SIGKILL  # ended and reaped: poll() is not needed


def test_processes_the_layer_starts_end_with_its_case(tmp_path, monkeypatch):
    probe = tmp_path / "pids"
    monkeypatch.setenv("CONV1D_CHECK_PROBE", str(probe))
    assert check(impl=f"{REDTEAM / 'spawns.py'}:Conv1D").status == "pass"
    sleeps = wait_for_pids(probe, 1)  # one a pass: the second tells whether gradients add up
    assert gone(sleeps)


def test_a_layer_that_forks_a_helper_and_exits_is_reported_at_once():
    start = time.monotonic()
    result = check(impl=f"{REDTEAM / 'forks_and_exits.py'}:Conv1D", timeout=60)
    assert result.status == "error"
    assert result.message == "the layer's process exited with code 0 before it was done"
    assert time.monotonic() - start < 10


# ------------------------------------------------------------------ sizes


def test_a_flood_of_output_is_capped_and_the_tool_stays_small():
    import resource

    check()  # torch and the tool loaded first: their memory is not the flood's
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = check(impl=f"{REDTEAM / 'floods.py'}:Conv1D", timeout=3)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB
    assert result.status == "error" and result.message.startswith("timed out after 3 s")
    assert len(result.layer_output) < (1 << 20) + 200
    assert result.layer_output.endswith("more output not kept]")
    assert grown < 64 * 1024


def test_a_layer_past_its_memory_limit_is_an_error_that_says_so():
    result = check(impl=f"{REDTEAM / 'allocates.py'}:Conv1D", memory_limit=1)
    assert result.status == "error"
    assert result.message.startswith("MemoryError") and "allocates.py:" in result.message


@pytest.mark.parametrize(
    "args",
    [
        ["-n", "9999999999999"],
        ["--in", "100000", "--out", "100000", "-l", "10000000"],
        ["-l", "4000000000000", "--impl", f"{LAYERS / 'correct_notebook_seed.py'}:Conv1D"],
    ],
)
def test_a_case_too_large_for_memory_is_refused_with_the_figure(args):
    start = time.monotonic()
    result = invoke(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: --memory-limit: the case needs about ")
    assert "of memory, more than the limit of" in result.stderr
    assert result.stderr.count("\n") == 1
    assert time.monotonic() - start < 20  # refused before allocating anything: not a speed goal


def test_jobs_are_capped_at_the_cpus_with_a_note(tmp_path):
    result = invoke("-j", "1000", "-q")
    cpus = os.cpu_count()
    assert result.exit_code == 0
    assert f"note: --jobs 1000: this machine has {cpus} CPU(s); using {cpus}" in result.stderr


@pytest.mark.parametrize("timeout", ["inf", "1e300", "3e6"])
def test_any_positive_timeout_is_honoured(timeout):
    result = invoke("--timeout", timeout, "--impl", f"{LAYERS / 'correct_layer_plain.py'}:Conv1d")
    assert result.exit_code == 0, result.output


def test_a_nan_timeout_is_refused():
    result = invoke("--timeout", "nan")
    assert (
        result.exit_code == 2 and "--timeout: timeout=nan: must be a finite number" in result.stderr
    )


# ------------------------------------------------------------------ config files

AXIS = str(list(range(1, 1001)))
GRID = f"[[grid]]\nin = {AXIS}\nout = {AXIS}\nlength = {AXIS}\n"  # 10⁹ combinations
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    + ["defaults: {batch: *i}"]
)
MERGES = "\n".join(  # each level merges the one below twice: 2ⁱ entries, unless deduplicated
    ["a0: &a0 {x: 1, y: 2}"]
    + [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], k{i}: {i}}}" for i in range(1, 25)]
)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("grid.toml", GRID, "1,000,000,000 combinations"),
        ("laughs.yaml", BILLION_LAUGHS, "holds more than 100,000 values"),
        ("utf16.toml", "[[case]]\nin = 3\n".encode("utf-16"), "UTF-16 text, not UTF-8"),
        ("latin1.yaml", "case: [{in: 3}]  # caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
        ("random.toml", bytes(range(256)) * 4, "a binary file"),
        ("deep.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("huge.toml", "# " + "x" * (2 << 20) + "\n", "larger than 1 MiB"),
    ],
)
def test_a_hostile_config_is_one_line_and_exit_2_at_once(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    start = time.monotonic()
    result = invoke("--config", path)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and words in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 500
    # a guard against expanding the file (a billion values would take hours), not a speed goal:
    # loose enough for a loaded machine
    assert time.monotonic() - start < 20


def test_yaml_merges_are_counted_as_they_are_copied(tmp_path, monkeypatch):
    from conv1d_check.sweep import config

    monkeypatch.setattr(config, "MAX_VALUES", 20)
    path = tmp_path / "merges.yaml"
    path.write_text(MERGES)
    with pytest.raises(config.ConfigError) as error:
        config.read(path)
    assert "merge keys copy more than 20 entries" in error.value.problems[0]


def test_max_cases_raises_the_limit(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("[[grid]]\nseed = " + str(list(range(30))) + "\n")
    assert invoke("--config", path, "--max-cases", "20").exit_code == 2
    assert invoke("--config", path, "--max-cases", "30", "-q").exit_code == 0


def test_a_config_that_is_a_directory_is_one_line(tmp_path):
    folder = tmp_path / "configs.toml"
    folder.mkdir()
    result = invoke("--config", folder)
    assert result.exit_code == 2 and "is a directory, not a config file" in result.stderr


# ------------------------------------------------------------------ output files


@pytest.mark.parametrize(
    ("option", "target", "words"),
    [
        ("--junit", "{tmp}", "is a directory"),
        ("--junit", "{tmp}/missing/report.xml", "there is no folder"),
        ("--markdown", "/proc/version/report.md", "there is no folder"),
        ("--output", "{tmp}", "is a directory"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_anything_runs(
    tmp_path, option, target, words
):
    result = invoke(option, target.format(tmp=tmp_path))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: {option}: ") and words in result.stderr


def test_the_output_never_overwrites_the_config_or_the_layer(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text("[[grid]]\nkernel_size = [1, 3]\n")
    layer = tmp_path / "layer.py"
    layer.write_text((LAYERS / "correct_vectorised_im2col.py").read_text())
    for target in (config, layer):
        before = target.read_text()
        result = invoke("--config", config, "--impl", f"{layer}:Conv1D", "--output", target)
        assert result.exit_code == 2 and "is the run's own input" in result.stderr
        assert target.read_text() == before


def test_two_sweeps_on_one_results_file_the_second_is_refused(tmp_path, tool):
    output, config = tmp_path / "results.jsonl", tmp_path / "slow.toml"
    config.write_text("[[grid]]\nseed = [1, 2, 3, 4]\n")
    impl = f"{REDTEAM / 'hangs.py'}:Conv1D"
    args = ["--config", config, "--output", output, "--impl", impl, "--timeout", "3", "-q"]
    tool(*args, env={"CONV1D_CHECK_PROBE": str(tmp_path / "pids")})  # killed at the end
    wait_for_pids(tmp_path / "pids", 2)
    second = invoke("--config", config, "--output", output)
    assert second.exit_code == 2
    assert "another conv1d-check is writing it" in second.stderr


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ({"status": "PASSED"}, "status must be one of pass, fail, error, skip"),
        ({"params": {"kernel_size": -1}}, "params: kernel_size=-1: must be positive"),
        ({"errors": {"y": {"max_abs": 1}}}, "errors.y must hold"),
        ({"params": {"bogus": 1}}, "params has unknown keys ['bogus']"),
    ],
)
def test_a_hand_edited_results_file_is_refused_whole_before_anything_runs(tmp_path, line, words):
    output = tmp_path / "results.jsonl"
    invoke("--output", output, "-q")
    record = json.loads(output.read_text())
    edited = json.dumps(
        record | {k: (record.get(k, {}) | v if k == "params" else v) for k, v in line.items()}
    )
    output.write_text(edited + "\n")
    result = invoke("--output", output, "--resume")
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert output.read_text() == edited + "\n"


def test_a_layer_file_broken_during_the_sweep_errors_its_later_cases_and_the_sweep_goes_on(
    tmp_path,
):
    layer = tmp_path / "edits_itself.py"
    source = (REDTEAM / "edits_itself.py").read_text()
    layer.write_text(
        source.replace('os.path.join(os.path.dirname(__file__), "..", "layers")', repr(str(LAYERS)))
    )
    config = tmp_path / "three.toml"
    config.write_text("[[grid]]\nkernel_size = [1, 2, 3]\n")
    result = invoke("--config", config, "--impl", f"{layer}:Conv1D", "--json")
    document = json.loads(result.stdout)
    statuses = [c["status"] for c in document["cases"]]
    assert statuses[0] == "pass" and statuses[1:] == ["error", "error"]
    assert document["cases"][1]["message"].startswith("SyntaxError:")
    assert result.exit_code == 1
