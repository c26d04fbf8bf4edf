"""How fast sweeps run: (a) the tool's overhead per case, (b) --jobs 2 against --jobs 1.

    python benchmarks/sweep_bench.py                     # print the figures
    python benchmarks/sweep_bench.py --write benchmarks/SWEEP_RESULTS.md

(a) On small cases, the time a sweep takes per case (`sweep.run` with a results file,
    as the command line runs it) against the bare computation on the same tensors: the
    layer's forward and backward, torch's, and the float64 oracle. The goal: at most 50%
    on top. Also shown against the least computation a check needs: in a float64 check on
    the CPU torch's result is the oracle, so torch runs once there.
(b) The command `conv1d-check --config ... -q` on 1,000 cases with --jobs 1 and --jobs 2,
    whole processes timed (start-up included). The goal: at least 1.6 times faster on two
    cores. Shown for cases of moderate size and for tiny ones, where the workers' start
    (each imports torch, about a second) is most of the work.

Best of --repeat runs each; on a busy machine the figures move by tens of percent.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from conv1d_check.check import torch_side as torch_ref
from conv1d_check.check.case import Case
from conv1d_check.check.verify import check, make_tensors
from conv1d_check.report.terminal import SweepProgress
from conv1d_check.sweep import runner as sweep
from conv1d_check.sweep.config import Entry
from conv1d_check.usercode.builtin import run_builtin

ROOT = Path(__file__).resolve().parents[1]
SMALL = """
[defaults]
batch = 2
length = 16
[[grid]]
in = [1, 2, 4, 8, 16]
out = [2, 4]
kernel_size = [1, 3, 5, 7, 9]
stride = [1, 2]
padding = [0, 1]
seed = [1, 2, 3, 4, 5]
"""
MEDIUM = """
[defaults]
batch = 8
length = 512
[[grid]]
in = [8, 16]
out = [16, 32]
kernel_size = [3, 5, 7, 9, 11]
stride = [1, 2]
seed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25]
"""


def small_cases() -> list[Case]:
    """288 small cases, float64 and float32, with strides and padding."""
    grid = itertools.product([1, 2, 4], [2, 4], [1, 3], [1, 2], [0, 1], ["float64", "float32"])
    cases = [
        Case(in_channels=i, out_channels=o, kernel_size=k, stride=s, padding=p, dtype=d, seed=q)
        for (i, o, k, s, p, d), q in itertools.product(grid, range(3))
    ]
    return cases


def bare(cases: list[Case], tensors: list[dict], always_torch: bool) -> float:
    """The computation alone: the layer, torch in the case's dtype, the oracle.

    Unless `always_torch`, torch's side is left out where the oracle is the same
    computation (float64 on the CPU), as the tool itself does.
    """
    start = time.perf_counter()
    for case, t in zip(cases, tensors, strict=True):
        args = (case.spec, t["x"], t["W"], t.get("b"), t["dy"])
        run_builtin(case.spec, t)
        if always_torch or case.dtype != "float64":
            torch_ref.conv1d(*args)
        torch_ref.oracle(*args)
    return time.perf_counter() - start


def checks(cases: list[Case]) -> float:
    """`verify.check` on each case: the computation, the comparison and the verdict."""
    start = time.perf_counter()
    for case in cases:
        check(case)
    return time.perf_counter() - start


def tool(entries: list[Entry], output: Path) -> float:
    """The sweep as the command line runs it: results file, progress (to a log)."""
    with open(os.devnull, "w") as log:
        from rich.console import Console

        progress = SweepProgress(Console(file=log, force_terminal=False))
        start = time.perf_counter()
        sweep.run(entries, 1, output, progress=progress)
        return time.perf_counter() - start


def overhead(repeat: int) -> dict[str, float]:
    cases = small_cases()
    tensors = [make_tensors(case) for case in cases]
    entries = [Entry(case) for case in cases]
    best = {"tool": np.inf, "check": np.inf, "bare": np.inf, "bare_min": np.inf}
    with tempfile.TemporaryDirectory() as folder, sweep.one_thread():
        output = Path(folder) / "results.jsonl"
        tool(entries[:20], output)  # warm torch up
        for _ in range(repeat):
            best["bare"] = min(best["bare"], bare(cases, tensors, always_torch=True))
            best["bare_min"] = min(best["bare_min"], bare(cases, tensors, always_torch=False))
            best["check"] = min(best["check"], checks(cases))
            best["tool"] = min(best["tool"], tool(entries, output))
    per_case = {name: 1e3 * seconds / len(cases) for name, seconds in best.items()}
    return per_case | {"cases": len(cases)}


def command(config: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "conv1d_check", "--config", str(config), "-q", "--jobs", str(jobs)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def scaling(repeat: int) -> dict[str, dict[str, float]]:
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, text in (("moderate", MEDIUM), ("tiny", SMALL)):
            config = Path(folder) / f"{name}.toml"
            config.write_text(text)
            times = {1: np.inf, 2: np.inf}
            for _ in range(repeat):
                for jobs in times:
                    times[jobs] = min(times[jobs], command(config, jobs))
            figures[name] = {"jobs1": times[1], "jobs2": times[2], "speedup": times[1] / times[2]}
    return figures


def report(over: dict, scale: dict, repeat: int) -> str:
    import torch

    a_ratio = over["tool"] / over["bare"] - 1
    a_min = over["tool"] / over["bare_min"] - 1
    lines = [
        "# Sweep benchmark",
        "",
        "```bash",
        f". .venv/bin/activate && python benchmarks/sweep_bench.py --repeat {repeat} "
        "--write benchmarks/SWEEP_RESULTS.md",
        "```",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}. "
        f"Best of {repeat} runs each.",
        "",
        f"## (a) Overhead per case ({over['cases']} small cases, one job)",
        "",
        "| what | ms per case |",
        "|---|---|",
        f"| bare: layer + torch side + oracle | {over['bare']:.3f} |",
        f"| bare, least: the same, less torch's side where it is the oracle (float64) "
        f"| {over['bare_min']:.3f} |",
        f"| `verify.check` on each case (the above, the comparison and the verdict) "
        f"| {over['check']:.3f} |",
        f"| the sweep (`sweep.run` with a results file and progress) | {over['tool']:.3f} |",
        "",
        f"Overhead: **{100 * a_ratio:.0f}%** on top of the bare computation (goal: at most 50%);"
        f" {100 * a_min:.0f}% on top of the least one. Of the overhead, "
        f"{over['check'] - over['bare_min']:.3f} ms per case is `verify.check`'s own (its "
        "comparisons, the tensors' drawing, the verdict) and "
        f"{over['tool'] - over['check']:.3f} ms the sweep's (results file, progress, results).",
        "",
        "## (b) `--jobs 2` against `--jobs 1` (1,000 cases, the whole command)",
        "",
        "| cases | --jobs 1 (s) | --jobs 2 (s) | speed-up |",
        "|---|---|---|---|",
    ]
    sizes = {
        "moderate": "moderate: N=8, L=512, C_in 8-16, C_out 16-32, K 3-11",
        "tiny": "tiny: N=2, L=16, C_in 1-16, C_out 2-4, K 1-9",
    }
    for name, row in scale.items():
        lines.append(
            f"| {sizes[name]} | {row['jobs1']:.2f} | {row['jobs2']:.2f} | "
            f"**{row['speedup']:.2f}×** |"
        )
    lines += [
        "",
        "Goal: at least 1.6× on two cores. Each worker imports torch as it starts (about a "
        "second), in parallel with the other; the tiny sweep's whole work is about as long, "
        "so there the start-up is most of the time.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path, help="write the results as Markdown to this file")
    args = parser.parse_args()
    over = overhead(args.repeat)
    print(
        f"(a) per case: bare {over['bare']:.3f} ms (least {over['bare_min']:.3f} ms), "
        f"sweep {over['tool']:.3f} ms: overhead {100 * (over['tool'] / over['bare'] - 1):.0f}% "
        f"({100 * (over['tool'] / over['bare_min'] - 1):.0f}% on the least)"
    )
    scale = scaling(args.repeat)
    for name, row in scale.items():
        print(
            f"(b) {name}: --jobs 1 {row['jobs1']:.2f} s, --jobs 2 {row['jobs2']:.2f} s: "
            f"{row['speedup']:.2f}×"
        )
    if args.write:
        args.write.write_text(report(over, scale, args.repeat))
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
