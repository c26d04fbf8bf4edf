"""The CI kit as users copy it: the GitHub Actions workflow, the GitLab job and the pre-commit
hook parse, and the commands they run work, shards and report together."""

import json
import os
import re
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from test_doc_blocks import BLOCKS

from conv1d_check.cli import main
from conv1d_check.report.terminal import COLUMNS, COMPACT

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "docs" / "ci"
LAYER = f"{ROOT / 'tests' / 'layers' / 'correct_mytorch_v2.py'}:Conv1d"
BROKEN = f"{ROOT / 'tests' / 'layers' / 'broken_stride_ignored_backward.py'}:Conv1D"


def commands(texts: list[str]) -> list[str]:
    """The conv1d-check command lines among shell steps, the user's layer swapped for ours."""
    found = [" ".join(t.split()) for t in texts if t.strip().startswith("conv1d-check")]
    return [c.replace("mytorch/conv.py:Conv1d", "{layer}") for c in found]


def shell(command: str, folder: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        shell=True,
        cwd=folder,
        capture_output=True,
        text=True,
        env=os.environ | {"NO_COLOR": "1"} | (env or {}),
    )


def small_sweep(command: str, folder: Path) -> str:
    """`command` on SMALL_SWEEP (written into `folder`) instead of the 160 cases of mytorch."""
    (folder / "small.toml").write_text(SMALL_SWEEP)
    return command.replace("--config mytorch", f"--config {folder / 'small.toml'}")


def run_step(command: str, env: dict, monkeypatch, capsys) -> tuple[int, str, str]:
    """A CI step's conv1d-check `command` (a shell line or script) run as the CI runs it: bash
    expands it with `env` set and hands conv1d-check its arguments, which the console entry
    point runs here, in this process (exit code, stdout, stderr), in the test's directory."""
    stand_in = 'conv1d-check() { printf "%s\\0" "$@"; }\n'  # prints the arguments it gets
    expanded = subprocess.run(
        ["bash", "-c", stand_in + command], env=os.environ | env, capture_output=True, text=True
    )
    assert expanded.returncode == 0, expanded.stderr
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main_of(*expanded.stdout.split("\0")[:-1], capsys=capsys)


def test_the_github_workflow_runs_its_shards_and_reports_on_the_job_summary(
    tmp_path, monkeypatch, capsys
):
    """With a broken layer: each shard fails on its part, the report fails on the whole."""
    workflow = yaml.safe_load((CI / "github-workflow.yml").read_text())
    sweep, report = (
        commands([step.get("run", "") for step in workflow["jobs"][job]["steps"]])
        for job in ("sweep", "report")
    )
    monkeypatch.chdir(tmp_path)
    shards = workflow["jobs"]["sweep"]["strategy"]["matrix"]["shard"]
    line = small_sweep(sweep[0], tmp_path)
    lines = [line.replace("${{ matrix.shard }}", str(i)).format(layer=BROKEN) for i in shards]
    codes = [run_step(line, {}, monkeypatch, capsys)[0] for line in lines]
    # The broken layer fails where stride is 2 (the default): k 1, 3 and 5 without padding,
    # three cases that the sharding puts in two of the four shards; those two fail.
    assert sorted(codes) == [0, 0, 1, 1]
    summary = tmp_path / "summary.md"
    done = shell(report[0], tmp_path, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1, done.stderr
    assert summary.read_text().startswith(f"## conv1d-check report of {len(shards)} file(s): ")
    assert "**7 case(s)**: 2 passed, 3 failed" in summary.read_text()
    assert (tmp_path / "junit.xml").exists()


def test_the_gitlab_job_runs_its_shards_and_reports(tmp_path, monkeypatch, capsys):
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert pipeline["conv1d-check"]["parallel"] == 4
    (sweep,) = commands(pipeline["conv1d-check"]["script"])
    (report,) = commands(pipeline["conv1d-check-report"]["script"])
    monkeypatch.chdir(tmp_path)
    line = small_sweep(sweep, tmp_path).format(layer=LAYER)
    for index in (1, 2):
        env = {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": "2"}
        code, _, err = run_step(line, env, monkeypatch, capsys)
        assert code == 0, err
        assert f"shard {index}/2 from GitLab" in err
    assert sorted(p.name for p in tmp_path.glob("junit-*.xml")) == ["junit-1.xml", "junit-2.xml"]
    done = shell(report + " --json", tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)["summary"]
    assert (summary["passed"], summary["skipped"]) == (6, 1)  # SMALL_SWEEP's 7, one refused
    assert (tmp_path / "conv1d-check.md").read_text().startswith("## conv1d-check report")


def test_the_pre_commit_hook_runs_with_the_arguments_its_comment_shows(monkeypatch, capsys):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "conv1d-check" and hook["pass_filenames"] is False
    example = re.search(r"args: \[(.*)\]", (ROOT / ".pre-commit-hooks.yaml").read_text())[1]
    args = [a.strip() for a in example.split(",")]
    line = " ".join([hook["entry"], *args]).replace("mytorch/conv.py:Conv1d", LAYER)
    code, out, err = run_step(line, {}, monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("PASS: 160 case(s), 160 pass")


def test_the_readme_shows_the_ci_files_as_they_are():
    readme = (ROOT / "README.md").read_text()
    for path in (CI / "github-workflow.yml", CI / "gitlab-ci.yml"):
        assert f"```yaml\n{path.read_text()}```" in readme, path.name


# Seven quick cases of the built-in layer, one of them skipped (padding 'same' with stride 2).
SMALL_SWEEP = """
[defaults]
in = 2
out = 3
batch = 2
length = 9
[[grid]]
kernel_size = [1, 3]
stride = [1, 2]
padding = [0, "same"]
exclude = [{kernel_size = 1, padding = "same"}]
[[case]]
kernel_size = 5
"""


def main_of(*args, capsys) -> tuple[int, str, str]:
    """The console entry point in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


@pytest.fixture
def shards(tmp_path, capsys) -> list[Path]:
    """The small sweep's three shards, each written to its results file."""
    config = tmp_path / "small.toml"
    config.write_text(SMALL_SWEEP)
    paths = [tmp_path / f"results-{i}.jsonl" for i in (1, 2, 3)]
    for index, path in enumerate(paths, 1):
        args = ("--config", config, "--shard", f"{index}/3", "--output", path, "-q")
        assert main_of(*args, capsys=capsys)[0] == 0
    return paths


def test_a_report_over_two_of_three_shards_names_the_missing_one_and_is_not_a_pass(shards, capsys):
    code, out, err = main_of("report", *shards[:2], capsys=capsys)
    assert code == 6
    assert out.splitlines()[-1].startswith("INCOMPLETE: 5 of 7 case(s) reported")
    assert "missing: shard(s) 3/3 of conv1d-check small, 2 of 7 case(s)" in err
    code, out, _ = main_of("report", *shards[:2], "--json", capsys=capsys)
    assert json.loads(out)["verdict"] == "INCOMPLETE" and code == 6


def test_a_report_over_every_shard_is_the_whole_sweeps(shards, tmp_path, capsys):
    config = tmp_path / "small.toml"
    _, whole, _ = main_of("--config", config, "--json", capsys=capsys)
    code, merged, err = main_of("report", *shards, "--json", capsys=capsys)
    assert code == 0 and "missing" not in err
    whole, merged = json.loads(whole), json.loads(merged)
    assert merged["verdict"] == whole["verdict"] == "PASS"
    assert merged["summary"] == whole["summary"] == {
        "total": 7, "passed": 6, "failed": 0, "errored": 0, "skipped": 1
    }  # fmt: skip
    assert [c["id"] for c in merged["cases"]] == [c["id"] for c in whole["cases"]]


def test_a_shard_cut_short_is_named_with_the_cases_it_lacks(shards, capsys):
    lines = shards[0].read_text().splitlines(keepends=True)
    shards[0].write_text("".join(lines[:-1]))
    code, _, err = main_of("report", *shards, capsys=capsys)
    assert code == 6
    assert f"missing: 1 of the {len(lines)} case(s) of shard 1/3 of conv1d-check small" in err


def test_records_of_different_runs_are_refused_unless_allowed(shards, tmp_path, capsys):
    other = tmp_path / "other.jsonl"
    assert main_of("-k", "5", "--output", other, "-q", capsys=capsys)[0] == 0
    code, out, err = main_of("report", *shards, other, capsys=capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "records of 2 different runs" in err
    assert "--allow-mixed" in err
    code, out, _ = main_of("report", *shards, other, "--allow-mixed", capsys=capsys)
    assert code == 0 and out.splitlines()[-1].startswith("PASS: 8 case(s)")


def test_a_record_whose_run_stamp_is_broken_is_refused(shards, capsys):
    record = json.loads(shards[1].read_text().splitlines()[0])
    record["run"]["shard"] = [4, 3]
    shards[1].write_text(json.dumps(record) + "\n")
    code, _, err = main_of("report", *shards, capsys=capsys)
    assert code == 2
    assert "line 1 is not a case's record (run.shard must be [i, n] with 1 <= i <= n)" in err


SLURM_ARRAY = {"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "5"}
SLURM_ARRAY["SLURM_ARRAY_TASK_COUNT"] = "3"  # sbatch --array=5-7: the third of three tasks


@pytest.mark.parametrize(
    ("environ", "shard", "source"),
    [
        (SLURM_ARRAY, "3/3", "a Slurm job array (SLURM_ARRAY_TASK_ID=7"),
        ({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "3"}, "2/3", "GitLab (CI_NODE_INDEX=2"),
    ],
)
def test_shard_auto_takes_the_shard_from_the_engine_and_says_where(
    environ, shard, source, tmp_path, capsys, monkeypatch
):
    for name in [*SLURM_ARRAY, "SLURM_ARRAY_TASK_STEP", "CI_NODE_INDEX", "CI_NODE_TOTAL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "small.toml").write_text(SMALL_SWEEP)
    config = ("--config", tmp_path / "small.toml", "--json")
    code, auto, err = main_of(*config, "--shard", "auto", capsys=capsys)
    assert code == 0 and f"note: --shard auto: shard {shard} from {source}" in err
    _, given, _ = main_of(*config, "--shard", shard, capsys=capsys)
    assert [c["id"] for c in json.loads(auto)["cases"]] == [
        c["id"] for c in json.loads(given)["cases"]
    ]


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({}, "found neither a Slurm job array"),
        (SLURM_ARRAY | {"SLURM_ARRAY_TASK_ID": "9"}, "indices must be evenly spaced"),
        ({"CI_NODE_INDEX": "x", "CI_NODE_TOTAL": "2"}, "must be 1 <= index <= total"),
    ],
)
def test_shard_auto_without_an_engine_is_a_usage_error(environ, words, capsys, monkeypatch):
    for name in [*SLURM_ARRAY, "SLURM_ARRAY_TASK_STEP", "CI_NODE_INDEX", "CI_NODE_TOTAL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    code, out, err = main_of("--shard", "auto", capsys=capsys)
    assert code == 2 and out == ""
    assert err.startswith("Error: --shard: auto: ") and words in err and len(err.splitlines()) == 1


def test_the_slurm_array_script_runs_each_task_and_the_report_after_them(
    tmp_path, monkeypatch, capsys
):
    """Each task as Slurm starts it (its array variables set), then the dependent report."""
    script = (CI / "slurm-array.sh").read_text()
    tasks = re.search(r"--array=(\d+)-(\d+)", script)
    first, last = int(tasks[1]), int(tasks[2])
    body = small_sweep(script, tmp_path).replace("mytorch/conv.py:Conv1d", "builtin")
    monkeypatch.chdir(tmp_path)
    tasks = range(first, last + 1)
    for task in tasks:
        env = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": str(first)}
        env["SLURM_ARRAY_TASK_COUNT"] = str(len(tasks))
        code, _, err = run_step(body, env, monkeypatch, capsys)
        assert code == 0, err
        assert f"shard {task - first + 1}/{len(tasks)} from a Slurm job array" in err
    (report,) = re.findall(r'--wrap "(conv1d-check report .*)"', script)
    done = shell(report, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("PASS: 7 case(s), 6 pass, 1 skip")
    assert (tmp_path / "junit.xml").exists()


def imported(arguments: str, folder: Path) -> set[str]:
    """The top-level modules Python imports to run `python ARGUMENTS` (its start-up too)."""
    done = shell(f"{sys.executable} -X importtime {arguments}", folder)
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}


def test_the_report_jobs_install_what_report_imports_and_no_torch(tmp_path, capsys):
    """The distributions `report` imports are the report jobs' packages or theirs."""
    from importlib import metadata

    from packaging.requirements import Requirement

    workflow = yaml.safe_load((CI / "github-workflow.yml").read_text())
    (install,) = [
        s["run"] for s in workflow["jobs"]["report"]["steps"] if "pip" in s.get("run", "")
    ]
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert pipeline["conv1d-check-report"]["before_script"] == [install]  # GitLab's the same
    assert "pip install --no-deps ./conv1d-check" in install and "torch" not in install
    wanted = install.split("&& pip install")[1].split()
    installed, todo = set(), list(wanted)
    while todo:  # the packages and their dependencies, as pip would install them
        name = todo.pop().lower().replace("_", "-")
        if name not in installed:
            installed.add(name)
            for line in metadata.requires(name) or []:
                requirement = Requirement(line)
                if not requirement.marker or requirement.marker.evaluate({"extra": ""}):
                    todo.append(requirement.name)
    (tmp_path / "small.toml").write_text(SMALL_SWEEP)
    args = ("--config", tmp_path / "small.toml", "-q", "--output", tmp_path / "r.jsonl")
    assert main_of(*args, capsys=capsys)[0] == 0
    modules = imported("-m conv1d_check report r.jsonl", tmp_path) - imported("-c pass", tmp_path)
    owners = metadata.packages_distributions()
    needed = {d.lower().replace("_", "-") for m in modules for d in owners.get(m, [])}
    assert needed - {"conv1d-check"} <= installed
    assert "torch" not in needed


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.language == "console"], ids=str)
def test_every_transcript_in_the_docs_ends_as_its_command_ends_now(block, capsys, monkeypatch):
    """Each `$ conv1d-check ...` of the docs, run here: its verdict line reads as the docs
    show it (but for the seconds)."""
    command = next(line[2:] for line in block.text.splitlines() if line.startswith("$ "))
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "150")
    _, out, _ = main_of(*shlex.split(command)[1:], capsys=capsys)
    shown = block.text.rstrip().splitlines()[-1]
    assert out.rstrip().splitlines()[-1].split(" in ")[0] == shown.split(" in ")[0]


@pytest.mark.parametrize(
    ("columns", "headers"), [(150, COLUMNS), (80, COMPACT), (40, COMPACT[1:-1])]
)
def test_the_table_fits_the_width_and_no_number_or_header_is_cut(
    columns, headers, capsys, monkeypatch
):
    """150 columns: the full table; 80 (a notebook, a CI log): the compact one; 40: a line per
    tensor. Every number the compact table shows is there whole, as the JSON has it."""
    monkeypatch.setenv("COLUMNS", str(columns))
    _, out, _ = main_of("--impl", BROKEN, capsys=capsys)
    _, document, _ = main_of("--impl", BROKEN, "--json", capsys=capsys)
    assert "…" not in out
    table = [line for line in out.splitlines() if line[:1] in "┏┃┡│└"]
    assert all(len(line) <= columns for line in table)
    assert (len(table) > 0) == (columns > 40)
    assert all(header in out for header in headers)
    (case,) = json.loads(document)["cases"]
    for name, error in case["errors"].items():
        shown = [f"{error[key]:.3g}" for key in ("max_abs", "max_rel", "share")]
        shown.append(f"{error['mismatched']}/{error['total']}")
        row = next(line for line in out.splitlines() if re.match(rf"\W*{name}\b", line))
        assert all(number in row for number in shown), (row, shown)


def junit_identities(path: Path) -> set[tuple[str, str]]:
    """(classname, name) of each testcase; and no property says "None"."""
    tree = ET.parse(path)
    assert all(p.get("value") != "None" for p in tree.iter("property"))
    return {(case.get("classname"), case.get("name")) for case in tree.iter("testcase")}


def test_a_cases_junit_identity_is_the_same_however_the_sweep_is_sharded(tmp_path, capsys):
    config = tmp_path / "small.toml"
    config.write_text(SMALL_SWEEP)
    main_of("--config", config, "-q", "--junit", tmp_path / "whole.xml", capsys=capsys)
    whole = junit_identities(tmp_path / "whole.xml")
    assert len(whole) == 7 and {c for c, _ in whole} == {"conv1d-check small"}
    shards = set()
    for index in (1, 2, 3):
        junit, output = tmp_path / f"junit-{index}.xml", tmp_path / f"results-{index}.jsonl"
        args = ("--config", config, "--shard", f"{index}/3", "-q", "--output", output)
        main_of(*args, "--junit", junit, capsys=capsys)
        shards |= junit_identities(junit)
        assert (
            ET.parse(junit).find("testsuite").get("name") == f"conv1d-check small shard {index}/3"
        )
    results = sorted(tmp_path.glob("results-*.jsonl"))
    main_of("report", *results, "-q", "--junit", tmp_path / "merged.xml", capsys=capsys)
    assert shards == whole == junit_identities(tmp_path / "merged.xml")


def test_a_commands_time_is_its_wall_time_from_the_process_start(tmp_path):
    """The verdict's seconds count the process's start (here a 2 s sleep before the command
    runs) and no more than the whole command took."""
    start = "import time; time.sleep(2); from conv1d_check.cli import main; main(['-q'])"
    began = time.monotonic()
    done = shell(f'{sys.executable} -c "{start}"', tmp_path)
    took = time.monotonic() - began
    seconds = float(re.search(r" in ([\d.]+) s$", done.stdout.strip())[1])
    assert 2.0 <= seconds <= took


def test_a_reports_time_is_the_cases_seconds_summed_and_says_so(shards, capsys):
    code, out, _ = main_of("report", *shards, capsys=capsys)
    assert code == 0
    summed = sum(
        json.loads(line)["seconds"] for path in shards for line in path.read_text().splitlines()
    )
    assert out.splitlines()[-1].endswith(f"; cases' time {summed:.2f} s (summed)")
