"""Hardening, second round (issue 22): what a layer's process sends is data, never code; its
environment holds no secrets; records, paths and text from outside are checked. The hostile
layers are tests/redteam/."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_hardening import gone, wait_for_pids
from typer.testing import CliRunner

from conv1d_check import check
from conv1d_check.cli import app, report_app
from conv1d_check.usercode import namespace, wire

ROOT = Path(__file__).resolve().parents[1]
REDTEAM = ROOT / "tests" / "redteam"
LAYERS = ROOT / "tests" / "layers"
runner = CliRunner()

# ------------------------------------------------------------------ the worker's replies


def test_a_layer_writing_a_pickle_to_the_pipe_runs_nothing_in_the_tool(tmp_path, monkeypatch):
    probe = tmp_path / "probe"
    monkeypatch.setenv("CONV1D_CHECK_PROBE", str(probe))
    result = check(impl=f"{REDTEAM / 'forges_a_reply.py'}:Conv1D")
    assert result.status == "error"
    assert result.message.startswith("the layer's process wrote to the tool's pipe")
    assert not (tmp_path / "probe.pwned").exists()


def test_a_message_travels_as_data_and_comes_back_equal():
    value = {"y": np.arange(6, dtype=">f4").reshape(2, 3), "notes": ["a", None, 1.5], "n": 3}
    value["payload"] = b"\x80\x04 pickled by the tool"
    incoming = wire.Incoming(limit=1 << 20)
    incoming.buffer += wire.encode(value)
    done, back = incoming.message()
    assert done and not incoming.buffer
    assert back["notes"] == ["a", None, 1.5] and back["n"] == 3
    assert back["payload"] == value["payload"]
    assert back["y"].dtype == np.dtype(">f4") and np.array_equal(back["y"], value["y"])


@pytest.mark.parametrize(
    "array", [np.array([1, 2], dtype="m8[s]"), np.array([None], dtype=object), np.array(["a"])]
)
def test_an_array_that_is_not_numbers_is_not_sent(array):
    with pytest.raises(TypeError):
        wire.encode({"y": array})


def message(header: bytes) -> bytes:
    return wire.PREFIX.pack(wire.MAGIC, len(header), 0) + header


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x10\x80\x04\x95pickled bytes",  # what the old pipe carried
        message(b"\x80\x04not json"),
        message(b'{"body": {"__array__": 0}, "arrays": [["|O8", [1]]]}'),
        message(b'{"body": {"__array__": 0}, "arrays": [["<f8", [4]]]}'),  # no buffer for it
        message(b'{"body": {"__array__": 5}, "arrays": []}'),
    ],
)
def test_a_malformed_message_is_refused(data):
    incoming = wire.Incoming(limit=1 << 20)
    incoming.buffer += data
    with pytest.raises(wire.Malformed):
        incoming.message()


def test_a_message_larger_than_the_limit_is_refused_before_it_is_read():
    incoming = wire.Incoming(limit=1 << 10)
    incoming.buffer += wire.PREFIX.pack(wire.MAGIC, 2, 1 << 30)
    with pytest.raises(wire.Malformed, match="beyond the limit"):
        incoming.message()


def test_a_layer_returning_timedeltas_is_that_cases_error():
    result = check(impl=f"{REDTEAM / 'returns_timedelta.py'}:Conv1D")
    assert result.status == "error"
    assert result.message == "y: the layer gave an array of timedelta64[ns], not of numbers"


# ------------------------------------------------------------------ the layer's environment


def test_the_layer_never_sees_a_ci_token_unless_it_is_passed_through(tmp_path, monkeypatch):
    layer = tmp_path / "prints_env.py"
    layer.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_vectorised_im2col import Conv1D as Correct\n"
        "class Conv1D(Correct):\n"
        "    def __call__(self, x):\n"
        "        print(sorted(k for k in os.environ if k.startswith('PLANTED')))\n"
        "        return 0 * super().__call__(x)\n"
    )
    for name in ("PLANTED_TOKEN", "PLANTED_API_KEY", "PLANTED_password", "PLANTED_OK"):
        monkeypatch.setenv(name, "s3cr3t")
    monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", "s3cr3t")
    seen = check(impl=f"{layer}:Conv1D").layer_output
    assert seen.strip() == "['PLANTED_OK']"
    monkeypatch.setenv("CONV1D_CHECK_PASS_ENV", "PLANTED_API_KEY, PLANTED_TOKEN")
    passing = layer.with_name("passes_env.py")  # a file of its own: a worker of its own
    passing.write_text(layer.read_text())
    seen = check(impl=f"{passing}:Conv1D").layer_output
    assert seen.strip() == "['PLANTED_API_KEY', 'PLANTED_OK', 'PLANTED_TOKEN']"


# ------------------------------------------------------------------ outputs against each other


def invoke(*args, env=None):
    command, args = (report_app, args[1:]) if args[:1] == ("report",) else (app, args)
    return runner.invoke(command, [str(a) for a in args], env={"NO_COLOR": "1"} | (env or {}))


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--output", "r.jsonl", "--junit", "r.jsonl"], {}, "--junit: r.jsonl is also --output"),
        (["--junit", "x.xml", "--markdown", "./x.xml"], {}, "--markdown: x.xml is also --junit"),
        (["--output", "r.jsonl"], {"GITHUB_STEP_SUMMARY": "r.jsonl"}, "is also --output"),
    ],
)
def test_two_outputs_on_one_file_are_refused_before_anything_runs(
    tmp_path, monkeypatch, args, env, words
):
    monkeypatch.chdir(tmp_path)
    result = invoke(*args, env=env)
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_never_writes_over_a_file_it_reads(tmp_path):
    shard = tmp_path / "s1.jsonl"
    assert invoke("--output", shard, "-q").exit_code == 0
    before = shard.read_text()
    result = invoke("report", shard, "--markdown", shard)
    assert result.exit_code == 2 and "is the run's own input" in result.stderr
    result = invoke("report", shard, env={"GITHUB_STEP_SUMMARY": str(shard)})
    assert result.exit_code == 2 and "GITHUB_STEP_SUMMARY: " in result.stderr
    assert shard.read_text() == before


# ------------------------------------------------------------------ report: nothing lost


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """One passing and one failing record of the same default case (other impls)."""
    folder = tmp_path_factory.mktemp("records")
    found = {}
    for name, impl in (("pass", "builtin"), ("fail", f"{LAYERS / 'broken_dx_zeros.py'}:Conv1D")):
        path = folder / f"{name}.jsonl"
        invoke("--output", path, "--impl", impl, "-q")
        found[name] = path.read_text()
    return found


def test_a_failing_shard_whose_last_line_lacks_its_newline_still_fails(tmp_path, records):
    passing, failing = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    passing.write_text(
        records["pass"].replace("seed10", "seed11").replace('"seed": 10', '"seed": 11')
    )
    failing.write_text(records["fail"].rstrip("\n"))
    result = invoke("report", passing, failing, "-q", "--allow-mixed")  # two runs' records
    assert result.exit_code == 1 and "FAIL" in result.stdout


def test_a_last_line_cut_short_is_refused_by_report(tmp_path, records):
    passing, failing = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    passing.write_text(
        records["pass"].replace("seed10", "seed11").replace('"seed": 10', '"seed": 11')
    )
    failing.write_text(records["fail"][:200])
    result = invoke("report", passing, failing, "-q")
    assert result.exit_code == 2
    assert f"{failing}: line 1 is cut short" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda r: r.replace('"timeout": 60.0', '"timeout": 5.0'), "other parameters"),
        (lambda r: r.replace('"status": "pass"', '"status": "skip"'), "another verdict"),
    ],
)
def test_one_case_recorded_twice_differently_is_refused_naming_both(tmp_path, records, edit, words):
    path = tmp_path / "both.jsonl"
    path.write_text(records["pass"] + edit(records["pass"]))
    result = invoke("report", path)
    assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert f"{path}:1 and at {path}:2" in result.stderr


# ------------------------------------------------------------------ files that are not files


@pytest.mark.parametrize("option", ["--output", "--junit", "--markdown", "--config"])
def test_a_fifo_is_refused_at_once(tmp_path, option):
    fifo = tmp_path / ("pipe.toml" if option == "--config" else "pipe")
    os.mkfifo(fifo)
    result = invoke(option, fifo)
    assert result.exit_code == 2 and "not a regular file" in result.stderr, result.stderr


def test_a_device_to_resume_from_is_refused():
    result = invoke("--output", "/dev/zero", "--resume")
    assert result.exit_code == 2 and "not a regular file" in result.stderr


def test_report_refuses_a_record_line_over_the_limit(tmp_path, monkeypatch, records):
    from conv1d_check.sweep import results_file

    monkeypatch.setattr(results_file, "LINE_LIMIT", 1 << 20)
    path = tmp_path / "big.jsonl"
    path.write_text(records["pass"] + " " * (2 << 20) + "\n")
    result = invoke("report", path)
    assert result.exit_code == 2 and f"{path}: line 2 is longer than 1 MiB" in result.stderr


# ------------------------------------------------------------------ exception text


def raised_in(filename: str, message: str) -> BaseException:
    code = compile(f"def forward():\n    raise ValueError({message!r})\n", filename, "exec")
    scope: dict = {}
    exec(code, scope)
    try:
        scope["forward"]()
    except ValueError as error:
        return error
    raise AssertionError("it did not raise")


def test_a_users_file_beside_the_package_is_named_in_the_message():
    from conv1d_check.usercode.worker import describe

    beside = ROOT / "conv1d_check_x" / "layer.py"  # shares the package's path as a prefix
    assert describe(raised_in(str(beside), "bad")) == "ValueError: bad (layer.py:2 in forward)"


def test_exception_text_is_capped_with_the_rest_counted():
    from conv1d_check.usercode.worker import TEXT_LIMIT, describe

    text = describe(raised_in("layer.py", "x" * (TEXT_LIMIT + 5000)))
    assert len(text) < TEXT_LIMIT + 200
    assert "[... 5000 more characters not kept]" in text


# ------------------------------------------------------------------ processes in other sessions


@pytest.mark.skipif(not namespace.available(), reason="no PID namespaces on this machine")
def test_processes_in_sessions_of_their_own_end_with_a_timed_out_case(tmp_path, monkeypatch):
    probe = tmp_path / "pids"
    monkeypatch.setenv("CONV1D_CHECK_PROBE", str(probe))
    result = check(impl=f"{REDTEAM / 'escapes_the_session.py'}:Conv1D", timeout=3)
    assert result.status == "error" and result.message.startswith("timed out after 3 s")
    assert gone(wait_for_pids(probe, 2))


@pytest.mark.skipif(not namespace.available(), reason="no PID namespaces on this machine")
@pytest.mark.parametrize("group", [False, True])
def test_processes_in_sessions_of_their_own_end_with_a_killed_tool(tmp_path, group):
    probe = tmp_path / "pids"
    impl = f"{REDTEAM / 'escapes_the_session.py'}:Conv1D"
    tool = subprocess.Popen(
        [sys.executable, "-m", "conv1d_check", "--impl", impl],
        env=os.environ | {"CONV1D_CHECK_PROBE": str(probe), "TMPDIR": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        pids = wait_for_pids(probe, 2)
    finally:  # SIGKILL of the tool, or of its whole process group (what a CI timeout does)
        os.killpg(tool.pid, signal.SIGKILL) if group else tool.kill()
        tool.wait()
    assert gone(pids)
    assert [p.name for p in tmp_path.iterdir()] == ["pids"]  # nothing in the temp folder


def test_the_worker_of_an_edited_layer_file_is_ended_not_left(tmp_path, monkeypatch):
    probe, layer = tmp_path / "pids", tmp_path / "reports_its_pid.py"
    monkeypatch.setenv("CONV1D_CHECK_PROBE", str(probe))
    source = (
        "import os, sys\n"
        f"sys.path[:0] = [{str(LAYERS)!r}, {str(REDTEAM)!r}]\n"
        "from _probe import report\n"
        "from correct_vectorised_im2col import Conv1D as Correct\n"
        "class Conv1D(Correct):\n"
        "    def __call__(self, x):\n"
        "        report(os.getpid())\n"
        "        return super().__call__(x)\n"
    )
    layer.write_text(source)
    assert check(impl=f"{layer}:Conv1D").status == "pass"
    layer.write_text(source + "# edited\n")
    assert check(impl=f"{layer}:Conv1D").status == "pass"
    first, *_, last = (int(pid) for pid in probe.read_text().split())
    assert first != last and gone([first]) and not gone([last], within=0.1)


# ------------------------------------------------------------------ internal errors


def test_an_internal_error_exits_3_with_one_line_and_the_traceback_in_a_file(monkeypatch, capsys):
    from conv1d_check.cli import check as check_cli
    from conv1d_check.cli import main

    def broken(*args, **kwargs):
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(check_cli, "_run", broken)
    with pytest.raises(SystemExit) as exit_:
        main(["-q"])
    err = capsys.readouterr().err
    assert exit_.value.code == 3 and err.count("\n") == 1
    assert err.startswith("Internal error: ") and "RuntimeError: a bug of ours" in err
    crash = Path(err.split("the traceback is in ")[1].split(". ")[0])
    assert "Traceback" in crash.read_text() and "a bug of ours" in crash.read_text()
    crash.unlink()


# ------------------------------------------------------------------ odd numbers


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--padding", "²"], "--padding: padding='²': must be a non-negative integer"),
        (["--padding=--1"], "--padding: padding='--1': must be a non-negative integer"),
        (["-n", "0", "-l", "1000000000000000000"], "--memory-limit: the case needs about"),
    ],
)
def test_odd_numbers_on_the_command_line_are_one_line_and_exit_2(args, words):
    result = invoke(*args)
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: {words}"), result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("name", ["big.toml", "big.yaml"])
def test_an_integer_of_5000_digits_in_a_config_is_one_line_and_exit_2(tmp_path, name):
    path = tmp_path / name
    number = "9" * 5000
    path.write_text(
        f"[[case]]\nbatch = {number}\n"
        if name.endswith("toml")
        else f"case: [{{batch: {number}}}]\n"
    )
    result = invoke("--config", path)
    assert result.exit_code == 2 and "Exceeds the limit (4300 digits)" in result.stderr
    assert result.stderr.count("\n") == 1


# ------------------------------------------------------------------ hand-edited records


def with_id(record: dict, old: str, new: str) -> None:
    record["id"] = record["id"].replace(old, new)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda r: r["errors"]["dX"].update(mismatched=1e999), "errors.dX.mismatched must be"),
        (lambda r: r["errors"]["dX"].update(worst_index=[1e999]), "errors.dX.worst_index must"),
        (lambda r: r.update(shapes={"y": 5}), "shapes.y must be a list of sizes"),
        (lambda r: r.update(diagnosis=[{"a": 1}]), "diagnosis must be a list of texts"),
        (lambda r: r.update(where={"dX": {"sample": 3}}), "where must map tensor names"),
        (lambda r: r.update(seconds=float("nan")), "seconds must be a finite number"),
        (
            lambda r: (r["params"].update(groups=5), with_id(r, "g1", "g5")),
            "params: groups=5: must divide in_channels=8, yet the case ran",
        ),
    ],
)
def test_every_field_of_a_record_is_checked_with_file_line_and_field(
    tmp_path, records, edit, words
):
    record = json.loads(records["fail"])
    edit(record)
    path = tmp_path / "edited.jsonl"
    path.write_text(records["pass"] + json.dumps(record) + "\n")
    for args in (["report", path], ["--output", path, "--resume"]):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1
        assert f"{path}: line 2 is not a case's record ({words}" in result.stderr, result.stderr


# ------------------------------------------------------------------ text from the layer

HOSTILE = "\x1b[2J\x00<img src=x onerror=alert(1)><details>[link](http://x)\u202eevil\udcff"


def test_hostile_exception_text_is_inert_in_the_terminal_and_the_markdown(tmp_path):
    layer, config = tmp_path / "hostile.py", tmp_path / "two.toml"
    layer.write_text(
        "class Conv1D:\n"
        "    def __init__(self, in_channel, out_channel, kernel_size, stride):\n"
        f"        raise RuntimeError({HOSTILE!r})\n"
    )
    config.write_text("[[grid]]\nkernel_size = [2, 3]\n")
    markdown = tmp_path / "summary.md"
    result = invoke("--config", config, "--impl", f"{layer}:Conv1D", "--markdown", markdown)
    assert result.exit_code == 1, result.output
    assert "ERROR 2 case(s): RuntimeError: \\x1b[2J\\x00<img" in result.stdout
    for raw in ("\x1b", "\x00", "\u202e", "\udcff"):
        assert raw not in result.stdout and raw not in markdown.read_text()
    text = markdown.read_text()
    for tag in ("<img", "<details", "[link"):  # each shown, backslash-escaped, never acting
        assert text.count(tag) == text.count("\\" + tag) > 0
    assert "\\<img src=x onerror=alert(1)\\>\\<details\\>\\[link\\](http://x)\\\\u202eevil" in text


def test_a_control_character_in_a_configs_name_leaves_the_junit_valid(tmp_path):
    import xml.etree.ElementTree as ET

    config, junit = tmp_path / "odd\x01name.toml", tmp_path / "junit.xml"
    config.write_text("[[case]]\nkernel_size = 2\n")
    assert invoke("--config", config, "--junit", junit, "-q").exit_code == 0
    (suite,) = ET.parse(junit).getroot().iter("testsuite")
    assert suite.get("name") == "conv1d-check odd\ufffdname"


# ------------------------------------------------------------------ outputs that fail late


def test_a_report_that_cannot_be_written_after_the_run_is_one_line_and_the_rest_kept(
    tmp_path, monkeypatch
):
    from conv1d_check.report import junit

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(junit, "write_junit", full)
    xml, markdown = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = invoke("--junit", xml, "--markdown", markdown, "-q")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --junit {xml}: cannot write it (No space left on device); the run finished "
        "and its other outputs are kept; exit code 2\n"
    )
    assert markdown.read_text().startswith("## conv1d-check: PASS")


def test_a_missing_job_summary_folder_is_refused_before_anything_runs(tmp_path):
    summary = tmp_path / "gone" / "summary.md"
    result = invoke("-q", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: GITHUB_STEP_SUMMARY: ") and "no folder" in result.stderr


def test_json_into_a_closed_pipe_is_no_error():
    read, write = os.pipe()
    os.close(read)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from conv1d_check.report.reporters import print_json; print_json('x' * 99)",
        ],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    assert done.returncode == 0 and done.stderr == ""


def test_the_memory_limit_bounds_shared_mappings_too():
    result = check(impl=f"{REDTEAM / 'maps_shared_memory.py'}:Conv1D", memory_limit=0.25)
    assert result.status == "error" and "Cannot allocate memory" in result.message


def test_a_config_with_45000_problems_is_refused_in_linear_time(tmp_path):
    import time

    path = tmp_path / "many.toml"
    path.write_text("".join(f"[[case]]\nin = -{i}\n" for i in range(1, 45001)))
    start = time.process_time()  # CPU time: the machine's load aside
    result = invoke("--config", path)
    assert result.exit_code == 2 and "45000 problems in" in result.stderr
    assert time.process_time() - start < 10  # 27 s when each problem was sought in a list


# ------------------------------------------------------------------ threads


def test_check_from_four_threads_at_once_passes_a_correct_layer_four_times():
    from concurrent.futures import ThreadPoolExecutor

    impl = f"{LAYERS / 'correct_vectorised_im2col.py'}:Conv1D"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda seed: check(impl=impl, seed=seed), range(4)))
    assert [r.status for r in results] == ["pass"] * 4, [r.message for r in results]


# ------------------------------------------------------------------ --search


@pytest.mark.parametrize("option", [["--json"], ["--junit", "x.xml"], ["--config", "mytorch"]])
def test_search_refuses_the_options_it_would_ignore(option):
    result = invoke("--search", "5", *option)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: --search: not with {option[0]}")


def test_an_interrupted_search_keeps_the_failure_found_so_far():
    from conv1d_check.check.case import Case
    from conv1d_check.check.result import CaseResult, Status
    from conv1d_check.sweep.search import search, unsupported

    probes = []
    unsupported(Case(), lambda case: probes.append(case) or CaseResult(case, Status.PASS))
    calls = []

    def run(case):  # the probes pass, the first drawn case fails, then Ctrl-C
        calls.append(case)
        if len(calls) > len(probes) + 1:
            raise KeyboardInterrupt
        status = Status.PASS if len(calls) <= len(probes) else Status.FAIL
        return CaseResult(case, status)

    found = search(Case(), budget=10, seed=1, run=run)
    assert found.interrupted and found.failure is not None
    assert found.failure.case == calls[len(probes)]


def test_a_thread_the_layer_leaves_prints_nothing_into_the_next_case(tmp_path):
    config = tmp_path / "two.toml"
    config.write_text("[[grid]]\nkernel_size = [2, 3]\n")
    result = invoke(
        "--config", config, "--impl", f"{REDTEAM / 'leaves_a_thread.py'}:Conv1D", "--json"
    )
    first, second = json.loads(result.stdout)["cases"]
    assert "the layer left 1 thread(s) running" in " ".join(first["notes"])
    assert second["status"] == "pass" and "leaked" not in second.get("layer_output", "")


def test_without_namespaces_the_worker_still_ends_what_the_layer_starts(tmp_path, monkeypatch):
    probe = tmp_path / "pids"
    monkeypatch.setenv("CONV1D_CHECK_PROBE", str(probe))
    monkeypatch.setattr(namespace, "available", lambda: False)  # as where unshare is refused
    layer = f"{REDTEAM / 'spawns.py'}:Conv1D"
    assert check(impl=layer, memory_limit=2).status == "pass"  # a limit of its own: a new worker
    assert gone(wait_for_pids(probe, 1))


# ------------------------------------------------------------------ the pool's semaphores

POOL = """
import time
from multiprocessing import resource_tracker
from conv1d_check.check.case import Case
from conv1d_check.sweep.runner import run_cases
names, register = [], resource_tracker.register
resource_tracker.register = lambda name, kind: (names.append(name), register(name, kind))
running = run_cases([Case(seed=seed) for seed in range(4)], jobs=2)
next(running)  # the pool runs
print(*names, flush=True)
time.sleep(1000)
"""


def test_sigkill_of_a_parallel_sweeps_process_group_leaves_no_semaphore():
    sweep = subprocess.Popen(
        [sys.executable, "-c", POOL], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        names = sweep.stdout.readline().split()
    finally:
        os.killpg(sweep.pid, signal.SIGKILL)  # what a CI timeout does
        sweep.wait()
        sweep.stdout.close()
    assert names  # the pool's named semaphores, as the sweep registered them
    names = [f"/dev/shm/sem.{name.lstrip('/')}" for name in names]
    deadline = time.monotonic() + 10
    while any(map(os.path.exists, names)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(os.path.exists, names))


def test_a_results_file_that_fills_the_disk_is_one_line_and_exit_2(tmp_path):
    import resource

    output = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "conv1d_check", "--output", str(output), "-q"],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (500, 500)),  # a full disk
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"Error: --output: {output}: cannot write it (File too large); the cases recorded "
        "before are kept (a partial last line is cut by --resume)\n"
    )
