"""The CI kit as users copy it: the GitHub Actions workflow, the GitLab job and the pre-commit
hook parse, and the commands they run work, shards and report together."""

import json
import os
import re
import subprocess
from pathlib import Path

import yaml

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


def test_the_github_workflow_runs_its_shards_and_reports_on_the_job_summary(tmp_path):
    """With a broken layer: each shard fails on its part, the report fails on the whole."""
    workflow = yaml.safe_load((CI / "github-workflow.yml").read_text())
    sweep, report = (
        commands([step.get("run", "") for step in workflow["jobs"][job]["steps"]])
        for job in ("sweep", "report")
    )
    shards = workflow["jobs"]["sweep"]["strategy"]["matrix"]["shard"]
    for shard in shards:
        line = sweep[0].replace("${{ matrix.shard }}", str(shard)).format(layer=BROKEN)
        done = shell(line, tmp_path)
        assert done.returncode == 1, done.stderr
    summary = tmp_path / "summary.md"
    done = shell(report[0], tmp_path, {"GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1, done.stderr
    assert summary.read_text().startswith(f"## conv1d-check report of {len(shards)} file(s): ")
    assert "**160 case(s)**: 60 passed, 100 failed" in summary.read_text()
    assert (tmp_path / "junit.xml").exists()


def test_the_gitlab_job_runs_its_shards_and_reports(tmp_path):
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert pipeline["conv1d-check"]["parallel"] == 4
    (sweep,) = commands(pipeline["conv1d-check"]["script"])
    (report,) = commands(pipeline["conv1d-check-report"]["script"])
    for index in (1, 2):
        env = {"CI_NODE_INDEX": str(index), "CI_NODE_TOTAL": "2"}
        assert shell(sweep.format(layer=LAYER), tmp_path, env).returncode == 0
    done = shell(report + " --json", tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["passed"] == 160
    assert (tmp_path / "conv1d-check.md").read_text().startswith("## conv1d-check report")


def test_the_pre_commit_hook_runs_with_the_arguments_its_comment_shows():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "conv1d-check" and hook["pass_filenames"] is False
    example = re.search(r"args: \[(.*)\]", (ROOT / ".pre-commit-hooks.yaml").read_text())[1]
    args = [a.strip() for a in example.split(",")]
    line = " ".join([hook["entry"], *args]).replace("mytorch/conv.py:Conv1d", LAYER)
    done = shell(line, ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("PASS: ")


def test_the_readme_shows_the_ci_files_as_they_are():
    readme = (ROOT / "README.md").read_text()
    for path in (CI / "github-workflow.yml", CI / "gitlab-ci.yml"):
        assert f"```yaml\n{path.read_text()}```" in readme, path.name
