"""How fast sweeps run, the whole command timed as a user runs it (start-up included):

    python benchmarks/sweep_bench.py --repeat 3 --write benchmarks/SWEEP_RESULTS.md

(a) A user's layer against the built-in one: `configs/mytorch.toml` (160 small cases) with the
    built-in layer and with a correct user layer, one job. Goal: the user layer at most 1.5
    times the built-in's time; its cost per case beyond the built-in's, a few milliseconds.
(b) --jobs 2 against --jobs 1 on three sweeps: the small smoke config (built-in), mytorch with
    a user layer, and the notebook's loop layer over a few hundred cases of moderate size,
    where the layer's own computation dominates. Goals: -j 2 never slower than -j 1; at least
    1.6 times faster on the last.

Best of --repeat runs of each command; on a busy machine the figures move by tens of percent.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER_LAYER = f"{ROOT / 'tests' / 'layers' / 'correct_mytorch_v1.py'}:Conv1D"
# A user layer's real work: the notebook's loop layer (the one users start from) over 320
# cases of moderate size, where its own loops are most of the time.
LOOP_LAYER = f"{ROOT / 'tests' / 'layers' / 'correct_notebook_seed.py'}:Conv1D"
MODERATE = """
[defaults]
batch = 2
length = 64
[[grid]]
in = [4, 8]
out = [4, 8]
kernel_size = [3, 5]
stride = [1, 2]
seed = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
"""


def best_time(args: list[str], repeat: int) -> float:
    """The best wall time of `conv1d-check ARGS -q` over `repeat` runs; it must pass."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "conv1d_check", *args, "-q"],
            capture_output=True,
            text=True,
            env=os.environ | {"NO_COLOR": "1"},
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{args} failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    return min(times)


def measure(repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        moderate = Path(folder) / "moderate.toml"
        moderate.write_text(MODERATE)
        sweeps = {
            "smoke, built-in layer (51 cases)": ["--config", "smoke"],
            "mytorch, user layer (160 cases)": ["--config", "mytorch", "--impl", USER_LAYER],
            "moderate, the notebook's loop layer (320 cases)": [
                "--config",
                str(moderate),
                "--impl",
                LOOP_LAYER,
            ],
        }
        builtin = best_time(["--config", "mytorch"], repeat)
        user = best_time(sweeps["mytorch, user layer (160 cases)"], repeat)
        jobs = {
            name: (best_time([*args, "-j", "1"], repeat), best_time([*args, "-j", "2"], repeat))
            for name, args in sweeps.items()
        }
    return {"builtin": builtin, "user": user, "jobs": jobs}


def report(figures: dict, repeat: int) -> str:
    import numpy
    import torch

    builtin, user, jobs = figures["builtin"], figures["user"], figures["jobs"]
    lines = [
        "# Sweep benchmark",
        "",
        "```bash",
        f". .venv/bin/activate && python benchmarks/sweep_bench.py --repeat {repeat} "
        "--write benchmarks/SWEEP_RESULTS.md",
        "```",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Python "
        f"{platform.python_version()}, numpy {numpy.__version__}, torch {torch.__version__}. "
        f"The whole command timed, start-up included; best of {repeat} runs each.",
        "",
        "## (a) A user's layer against the built-in one (`--config mytorch`, 160 cases, -j 1)",
        "",
        "| layer | seconds |",
        "|---|---|",
        f"| built-in | {builtin:.2f} |",
        f"| user layer (`correct_mytorch_v1.py`, in its worker process) | {user:.2f} |",
        "",
        f"Ratio **{user / builtin:.2f}** (goal: at most 1.5); "
        f"**{1000 * (user - builtin) / 160:.1f} ms** a case beyond the built-in layer's "
        "(the worker's start, the layer's own computation and the round trips).",
        "",
        "## (b) `--jobs 2` against `--jobs 1`",
        "",
        "| sweep | -j 1 (s) | -j 2 (s) | speed-up |",
        "|---|---|---|---|",
    ]
    for name, (one, two) in jobs.items():
        lines.append(f"| {name} | {one:.2f} | {two:.2f} | **{one / two:.2f}×** |")
    lines += [
        "",
        "Goals: -j 2 never slower than -j 1 (a sweep too small to pay for workers runs in one "
        "process); at least 1.6× where the work is real (the moderate sweep).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path)
    options = parser.parse_args()
    text = report(measure(options.repeat), options.repeat)
    print(text)
    if options.write:
        options.write.write_text(text)


if __name__ == "__main__":
    main()
