"""Time our numpy Conv1D against torch.nn.Conv1d on the CPU, forward + backward.

    python benchmarks/bench.py [--quick] [--json benchmarks/results.json]

Per shape and dtype: the best time of one forward + backward (ours, torch's, and the reference
loops' on tiny shapes), GFLOP/s, our share of the numpy matmul peak (measured before and after
the cases) and the peak memory each side allocates; then issue 6's goals, PASS or MISS. It
always exits 0: a report, not a test. The header names each side's kernels: numpy's OpenBLAS
takes its kernel from OPENBLAS_CORETYPE when set (Haswell: AVX2), torch's oneDNN its own
(AVX2 on the machine of the current run); where OPENBLAS_CORETYPE is set, run it also under
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` to compare.

Timing: each side is warmed up once, then the sides take turns, ROUNDS rounds of a few runs
(MIN_REPEATS at least), pausing before each turn (the other library's idle threads stop
spinning); each side's best time counts, as noise on a shared machine only ever adds time.
Threads: torch pinned to os.cpu_count(); OpenBLAS at its default (one per core). Memory: bytes
allocated during one forward + backward and live at the peak, above what was live before
(outputs, gradients and saved state included): tracemalloc's peak for numpy, the peak of the
running sum of torch's CPU allocator events (profile_memory=True) for torch; neither counts
BLAS's own workspaces.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from threadpoolctl import threadpool_info
from torch.profiler import ProfilerActivity, profile

from conv1d_check import Conv1D
from conv1d_check.nn import reference
from conv1d_check.nn.paths import choose_path
from conv1d_check.nn.spec import ConvSpec

THREADS = os.cpu_count() or 1
DTYPES = ("float64", "float32")
# The reference loops run only where one forward's multiply-adds, N·C_out·L_out·C_in/G·K, are few.
REFERENCE_MAX_MACS = 20_000
TIME_BUDGET_S = 0.6  # timed seconds per side and case, at least one run per round
ROUNDS = 3  # the sides take turns this many times
MAX_REPEATS = 15  # runs per side and case at most
# Runs per side and round at least. A process's first calls on a large shape are slow while its
# memory grows (fresh pages cost about 4 ms per MB on this VM: the large shape's first three or
# four forward + backward calls took 300-1000 ms against 280 after): with one run a round, the
# large shape's best was one of its first four calls, and its share of the peak fell to 0.5.
MIN_REPEATS = 2
SETTLE_S = 0.1  # pause before each side's turn, so the other library's idle threads stop spinning
MATMUL_SIZE = 2048  # the square matmul that measures the peak (1024 with --quick)
BUSY_RATIO = 0.85  # a peak measured after the cases below this share of the other: a busy machine

# The goals of issue 6.
MEDIAN_RATIO_GOAL = {"float64": 1.0, "float32": 1.5}
WORST_RATIO_GOAL = 2.0
LARGEST_PEAK_SHARE_GOAL = 0.60
LARGEST_MEMORY_RATIO_GOAL = 1.5


@dataclass(frozen=True)
class Shape:
    """One benchmark shape: torch.nn.Conv1d's parameters plus batch and length."""

    name: str
    batch: int
    in_channels: int
    out_channels: int
    length: int
    kernel_size: int
    stride: int = 1
    padding: int | str = 0
    dilation: int = 1
    groups: int = 1
    padding_mode: str = "zeros"

    @property
    def spec(self) -> ConvSpec:
        fields = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")
        kept = {name: getattr(self, name) for name in (*fields, "groups", "padding_mode")}
        return ConvSpec(**kept, bias=True)

    @property
    def macs(self) -> int:
        """Multiply-adds of one forward: N · C_out · L_out · C_in/G · K."""
        spec = self.spec
        l_out = spec.output_length(self.length)
        return self.batch * self.out_channels * l_out * spec.in_per_group * self.kernel_size

    @property
    def flop(self) -> float:
        """Floating-point operations of forward + backward: 2 per multiply-add, 3 passes."""
        return 3 * 2 * self.macs


SUITE = (
    Shape("tiny", 2, 4, 8, 32, 3, padding=1),
    Shape("tiny-reflect-s2", 2, 6, 6, 40, 5, stride=2, padding=2, padding_mode="reflect"),
    Shape("small", 8, 16, 32, 128, 5, padding=2),
    Shape("medium", 16, 64, 64, 512, 5, padding=2),
    Shape("large", 16, 256, 256, 1024, 3, padding=1),
    Shape("stem-3ch-s2", 16, 3, 64, 2048, 7, stride=2, padding=3),
    Shape("stride-2", 16, 64, 128, 1024, 4, stride=2, padding=1),
    Shape("dilation-4", 16, 64, 64, 512, 3, padding="same", dilation=4),
    Shape("groups-4", 16, 128, 128, 512, 5, padding=2, groups=4),
    Shape("depthwise", 16, 128, 128, 1024, 9, padding=4, groups=128),
    Shape("reflect", 16, 64, 64, 512, 7, padding=3, padding_mode="reflect"),
    Shape("circular", 16, 64, 64, 512, 5, padding=2, padding_mode="circular"),
    Shape("replicate", 8, 32, 48, 256, 3, padding=1, padding_mode="replicate"),
)
QUICK = ("tiny-reflect-s2", "small", "medium", "groups-4", "depthwise", "circular")


@dataclass
class Result:
    """The figures of one shape in one dtype; times in seconds, memory in bytes."""

    shape: str
    dtype: str
    path: str
    flop: float
    ours_s: float
    torch_s: float
    reference_s: float | None
    ours_bytes: int
    torch_bytes: int
    ours_gflops: float = field(init=False)
    torch_gflops: float = field(init=False)
    ratio: float = field(init=False)  # ours_s / torch_s
    memory_ratio: float = field(init=False)
    peak_share: float = 0.0  # ours / this dtype's numpy matmul peak, set once the peak is known

    def __post_init__(self) -> None:
        self.ours_gflops = self.flop / self.ours_s / 1e9
        self.torch_gflops = self.flop / self.torch_s / 1e9
        self.ratio = self.ours_s / self.torch_s
        self.memory_ratio = self.ours_bytes / self.torch_bytes if self.torch_bytes else float("inf")


@dataclass
class Goal:
    name: str
    value: float
    target: float
    at_least: bool  # the value must reach the target (a share), not stay under it (a ratio)

    @property
    def passed(self) -> bool:
        return self.value >= self.target if self.at_least else self.value <= self.target


def best_times(runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best seconds of each run, the sides taking turns: ROUNDS rounds, each giving every side
    a pause (SETTLE_S) and then a few back-to-back runs, so that a busy spell on a shared machine
    falls on both sides rather than on one. Each side is warmed up once first."""
    first = {name: _seconds(run, settle=True) for name, run in runs.items()}
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, run in runs.items():
            per_round = TIME_BUDGET_S / ROUNDS / max(first[name], 1e-9)
            repeats = int(min(MAX_REPEATS // ROUNDS, max(MIN_REPEATS, per_round)))
            time.sleep(SETTLE_S)
            samples[name] += [_seconds(run) for _ in range(repeats)]
    return {name: min(times) for name, times in samples.items()}


def matmul_peak(dtype: str, size: int) -> float:
    """GFLOP/s of a square np.matmul of `size`, the best of five: this machine's BLAS peak."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(dtype) for _ in range(2))
    a @ b
    best = min(_seconds(lambda: a @ b) for _ in range(5))
    return 2 * size**3 / best / 1e9


def _seconds(run: Callable[[], object], settle: bool = False) -> float:
    time.sleep(SETTLE_S if settle else 0)
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def numpy_peak_bytes(run: Callable[[], object]) -> int:
    """Peak bytes numpy allocates during `run` above what is live before it (tracemalloc)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        kept = run()  # noqa: F841  (the outputs stay alive until the peak is read)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def torch_peak_bytes(run: Callable[[], object]) -> int:
    """Peak bytes torch's CPU allocator holds during `run`: the running sum of its events."""
    with (
        _stderr_silenced(),
        profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof,
    ):
        kept = run()  # noqa: F841
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        live += event.nbytes()
        peak = max(peak, live)
    return peak


@contextlib.contextmanager
def _stderr_silenced():
    """Point file descriptor 2 at /dev/null: the profiler's C++ side logs its start and stop."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def bench_case(shape: Shape, dtype: str) -> Result:
    """Time and measure one shape in one dtype: our layer, torch and (tiny shapes) the loops."""
    spec = shape.spec
    rng = np.random.default_rng(0)
    x = rng.standard_normal((shape.batch, shape.in_channels, shape.length)).astype(dtype)
    layer = Conv1D(*shape.spec.arguments(), dtype=dtype, rng=1)
    dy = rng.standard_normal(layer(x).shape).astype(dtype)

    def ours(layer: Conv1D = layer) -> tuple:
        return layer(x), layer.backward(dy)

    net = torch.nn.Conv1d(*shape.spec.arguments()).to(getattr(torch, dtype))
    with torch.no_grad():
        net.weight.copy_(torch.from_numpy(layer.W))
        net.bias.copy_(torch.from_numpy(layer.b))
    xt, dyt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dy)

    def forget_gradients() -> None:
        xt.grad = None
        net.zero_grad(set_to_none=True)

    def theirs() -> tuple:
        forget_gradients()
        yt = net(xt)
        yt.backward(dyt)
        return yt, xt.grad, net.weight.grad, net.bias.grad

    def loops() -> None:
        reference.forward(spec, x, layer.W, layer.b)
        reference.backward(spec, x, layer.W, dy)

    runs = {"ours": ours, "torch": theirs}
    if shape.macs <= REFERENCE_MAX_MACS:
        runs["loops"] = loops
    times = best_times(runs)
    fresh = Conv1D(*shape.spec.arguments(), dtype=dtype, rng=1)  # no state saved by the timing
    ours_bytes = numpy_peak_bytes(lambda: ours(fresh))
    forget_gradients()  # freed before the profiler starts, whose events then balance
    torch_bytes = torch_peak_bytes(theirs)
    path = choose_path(spec, shape.batch, shape.length)
    seconds = (times["ours"], times["torch"], times.get("loops"))
    return Result(shape.name, dtype, path, shape.flop, *seconds, ours_bytes, torch_bytes)


def check_goals(results: list[Result]) -> list[Goal]:
    """Issue 6's goals, measured on `results`."""
    goals = []
    for dtype, target in MEDIAN_RATIO_GOAL.items():
        median = statistics.median(r.ratio for r in results if r.dtype == dtype)
        goals.append(Goal(f"median ours/torch, {dtype}", median, target, at_least=False))
    worst = max(results, key=lambda r: r.ratio)
    name = f"worst ours/torch ({worst.shape} {worst.dtype})"
    goals.append(Goal(name, worst.ratio, WORST_RATIO_GOAL, at_least=False))
    largest = [r for r in results if r.shape == max(results, key=lambda r: r.flop).shape]
    for r in (r for r in largest if r.dtype == "float64"):
        name = f"{r.shape} float64: share of matmul peak"
        goals.append(Goal(name, r.peak_share, LARGEST_PEAK_SHARE_GOAL, at_least=True))
    for r in largest:
        name = f"{r.shape} {r.dtype}: peak memory ours/torch"
        goals.append(Goal(name, r.memory_ratio, LARGEST_MEMORY_RATIO_GOAL, at_least=False))
    return goals


def blas() -> dict:
    """numpy's BLAS as threadpoolctl reads it from the loaded library (the kernel OpenBLAS
    chose, or OPENBLAS_CORETYPE forced), torch's CPU capability, and the variables that steer
    them."""
    info = next((i for i in threadpool_info() if i.get("user_api") == "blas"), {})
    steering = ("OPENBLAS_", "OMP_", "MKL_")
    return {
        "numpy_blas": f"{info.get('internal_api', '?')} {info.get('version', '?')}",
        "numpy_kernel": info.get("architecture", "?"),
        "numpy_threads": info.get("num_threads"),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
        "env": {k: v for k, v in os.environ.items() if k.startswith(steering)},
    }


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return {
        "cpu": models[0] if models else "unknown",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        **blas(),
    }


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1e3:.2f}"


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


def results_table(results: list[Result]) -> Table:
    table = Table(title=f"forward + backward, best time; {THREADS} threads each side")
    for column in ("shape", "dtype", "path"):
        table.add_column(column)
    numbers = ("ours ms", "torch ms", "ours/torch", "loops ms", "ours GF/s", "torch GF/s")
    for column in (*numbers, "% peak", "ours MiB", "torch MiB", "mem ratio"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            *(r.shape, r.dtype, r.path, _ms(r.ours_s), _ms(r.torch_s), f"{r.ratio:.2f}"),
            *(_ms(r.reference_s), f"{r.ours_gflops:.1f}", f"{r.torch_gflops:.1f}"),
            *(f"{100 * r.peak_share:.0f}", _mib(r.ours_bytes), _mib(r.torch_bytes)),
            f"{r.memory_ratio:.2f}",
        )
    return table


QuickOption = Annotated[bool, typer.Option("--quick", help=f"only {', '.join(QUICK)}")]
JsonOption = Annotated[Path | None, typer.Option("--json", help="also write it all to this file")]


def main(quick: QuickOption = False, json_path: JsonOption = None) -> None:
    """Benchmark conv1d_check.Conv1D against torch.nn.Conv1d; print the figures and the goals."""
    torch.set_num_threads(THREADS)
    console = Console()
    if not console.is_terminal:
        console = Console(width=180)  # a file or a pipe: keep the table's full width
    b = blas()
    console.print(
        f"numpy: {b['numpy_blas']}, kernel {b['numpy_kernel']}, {b['numpy_threads']} threads; "
        f"torch {torch.__version__}: CPU capability {b['torch_cpu_capability']}, "
        f"{b['torch_threads']} threads; {' '.join(f'{k}={v}' for k, v in b['env'].items())}"
    )
    shapes = [s for s in SUITE if s.name in QUICK] if quick else list(SUITE)
    size = MATMUL_SIZE // 2 if quick else MATMUL_SIZE
    before = {dtype: matmul_peak(dtype, size) for dtype in DTYPES}
    results = []
    with Progress(console=console, transient=True, disable=not console.is_terminal) as progress:
        cases = [(shape, dtype) for shape in shapes for dtype in DTYPES]
        for shape, dtype in progress.track(cases, description="benchmarking"):
            results.append(bench_case(shape, dtype))
    after = {dtype: matmul_peak(dtype, size) for dtype in DTYPES}
    peaks = {dtype: max(before[dtype], after[dtype]) for dtype in DTYPES}
    for r in results:  # against the higher of the two peaks: the stricter share
        r.peak_share = r.ours_gflops / peaks[r.dtype]
    goals = check_goals(results)
    console.print(results_table(results))
    both = [f"{d} {before[d]:.1f} and {after[d]:.1f} GFLOP/s" for d in DTYPES]
    console.print(f"numpy matmul peak ({size}×{size}), before and after: {', '.join(both)}")
    if any(min(before[d], after[d]) < BUSY_RATIO * peaks[d] for d in DTYPES):
        moved = f"the matmul peak moved by more than {100 * (1 - BUSY_RATIO):.0f}% during the run"
        console.print(f"[yellow]{moved}: the machine was busy, the times are noisy[/yellow]")
    for goal in goals:
        verdict, sign = "PASS" if goal.passed else "MISS", ">=" if goal.at_least else "<="
        console.print(f"{verdict}  {goal.name}: {goal.value:.2f} (goal {sign} {goal.target})")
    if json_path is not None:
        report = {"command": " ".join(["python", *sys.argv]), "machine": machine()}
        report |= {"matmul_size": size, "matmul_peak_gflops": peaks}
        report |= {"matmul_peak_gflops_before": before, "matmul_peak_gflops_after": after}
        report |= {"results": [asdict(r) for r in results]}
        report["goals"] = [asdict(g) | {"passed": g.passed} for g in goals]
        json_path.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"wrote {json_path}")


if __name__ == "__main__":
    typer.run(main)
