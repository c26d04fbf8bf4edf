"""How close correct layers come to the pass rule, and how small an error it still catches.

    python benchmarks/accuracy.py            # the full study, writes benchmarks/ACCURACY.md
    python benchmarks/accuracy.py --quick    # sizes up to 10⁶, fewer elements, writes nothing

A report for issue 11, not a test: it always exits 0. Three parts, all on the tool's API
(`Sums`, `Tolerance().allowance`, `compare`, and `check` for the last):

1. Margin. Each element is a sum s = Σ a_i·b_i of n terms, the tool's kind of inputs: a, b ~ N(0,1)
   as in dW and db, or a ~ N(0,1), b ~ U(-k, k) with k = 1/√n as in y and dX. The inputs are
   rounded to the checked dtype once, as the tool does; a "layer" then sums their products in
   that dtype in one order: sequential (np.cumsum), reversed sequential, pairwise (np.sum),
   blocked (np.matmul: OpenBLAS's dot) or nested (√n blocks summed one term at a time, then
   their sums: a per-tap-then-per-channel loop). The expected value is the tool's oracle, torch's
   float64 convolution (the dW of a depthwise, K = 1 layer holds one such sum per channel); the
   sums the rule needs (s, Σ|t|, sqrt(Σt²)) are exact to float64, s accumulated in long double.
   The figure is the largest error / allowed ("share") over all elements: the margin below 1.
2. Detection floor. On the same sums (a, b ~ N(0,1)), the smallest ε that fails, by bisection:
   as a share of the element's scale, expected + ε·max(|s|, ‖t‖₂), the ε at which every element
   fails; as a relative error of the value, expected·(1 + ε), the ε at which half and 99% of the
   elements fail (no rule catches a relative error of an element that cancels to almost 0).
3. End to end: `conv1d_check.check` on the built-in layer at a few large sizes, each tensor's
   share and the rule that set its allowance, and torch's own share beside it.
4. Every rule (`accuracy_rules.py`): the largest share of correct layers (sequential, pairwise,
   blocked, FFT, torch's own) under the worst case, √n·u alone, the element-wise rule and the
   norm-wise rule, on zero-mean and on shifted data, and the smallest error each catches.

Everything runs on one thread (torch and BLAS), as the tool's checks do.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer
from accuracy_rules import RuleFloor, RuleShares, bisect_floor
from accuracy_rules import floor_rows as rule_floor_rows
from accuracy_rules import run as run_rules
from accuracy_rules import section as rules_section
from accuracy_rules import share_rows as rule_share_rows
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_info

from conv1d_check import check
from conv1d_check.check import torch_side
from conv1d_check.check.tolerance import (
    CONFIDENCE,
    PROBABLE,
    WORST_CASE,
    Allowance,
    Sums,
    Tolerance,
    compare,
)
from conv1d_check.check.tolerance import term_counts as tool_term_counts
from conv1d_check.nn.spec import ConvSpec

DTYPES = ("float32", "float64")
ORDERS = ("sequential", "reversed", "pairwise", "blocked", "nested")
KINDS = ("N·N", "N·U")  # a·b with b ~ N(0,1) (dW, db) or b ~ U(-k, k) (y, dX)
SIZES = tuple(10**e for e in range(2, 8))
QUICK_SIZES = tuple(10**e for e in range(2, 7))
# Elements per size: TERMS // n, within [MIN, MAX]: 10⁵ at n = 10², 5 at n = 10⁷.
TERMS, MIN_ELEMENTS, MAX_ELEMENTS = 2 * 10**7, 5, 10**5
QUICK_TERMS, QUICK_MIN_ELEMENTS = 2 * 10**6, 2
CHUNK_TERMS = 10**7  # terms drawn and summed at a time: about 1 GB live at the peak
SEED = 11
# The targets of issue 11: the ε of the scale (float32) or of the value (float64) that must fail.
SCALE_TARGETS = ((10**4, 1e-3), (10**7, 1e-2))  # float32: 0.1% up to 10⁴ terms, 1% up to 10⁷
VALUE_TARGET = 1e-9  # float64, every size
E2E = (
    dict(batch=16, in_channels=16, out_channels=16, kernel_size=3, length=32768),
    dict(batch=1, in_channels=1, out_channels=1, kernel_size=1, length=10_000_000),
    dict(batch=4, in_channels=64, out_channels=64, kernel_size=7, length=8192),
)
QUICK_E2E = (
    dict(batch=16, in_channels=16, out_channels=16, kernel_size=3, length=2048),
    dict(batch=1, in_channels=1, out_channels=1, kernel_size=1, length=1_000_000),
)
E2E_DTYPES = ("float32", "float64")  # float64 on the single-channel case only: the longest sum


# --- 1. the margin of correct layers --------------------------------------------------------


def draw(rng: np.random.Generator, kind: str, rows: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """a, b of shape (rows, n), float64: a ~ N(0,1); b ~ N(0,1) or U(-k, k), k = 1/√n."""
    a = rng.standard_normal((rows, n))
    if kind == "N·N":
        return a, rng.standard_normal((rows, n))
    k = 1 / math.sqrt(n)
    return a, rng.uniform(-k, k, (rows, n))


def layer_sums(a: np.ndarray, b: np.ndarray, order: str) -> np.ndarray:
    """Σ_i a_i·b_i of each row of a, b (rows, n), computed in their dtype in `order`: (rows,)."""
    if order == "blocked":
        return np.matmul(a[:, None, :], b[:, :, None])[:, 0, 0]
    t = a * b  # each product rounded once, as a layer computes it
    if order == "sequential":
        return np.cumsum(t, axis=1, dtype=t.dtype)[:, -1]
    if order == "reversed":
        return np.cumsum(t[:, ::-1], axis=1, dtype=t.dtype)[:, -1]
    if order == "pairwise":
        return np.sum(t, axis=1, dtype=t.dtype)
    rows, n = t.shape  # nested: ⌈√n⌉ blocks one term at a time, then the blocks' sums
    width = math.isqrt(n - 1) + 1
    blocks = np.zeros((rows, -(-n // width) * width), t.dtype)
    blocks[:, :n] = t  # the padding adds +0.0: exact
    inner = np.cumsum(blocks.reshape(rows, -1, width), axis=2, dtype=t.dtype)[:, :, -1]
    return np.cumsum(inner, axis=1, dtype=t.dtype)[:, -1]


def oracle_sums(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The tool's oracle of each row's Σ a_i·b_i: a, b (rows, n) float64 -> (rows,).

    torch's float64 dW of a depthwise layer with K = 1: dW[c] = Σ_l dy[0, c, l]·x[0, c, l].
    """
    rows = a.shape[0]
    spec = ConvSpec(rows, rows, 1, groups=rows, bias=False)
    return torch_side.conv1d(spec, a[None], np.ones((rows, 1, 1)), None, b[None])["dW"][:, 0, 0]


@dataclass
class Study:
    """One (dtype, kind, n): per element, the exact sums, the oracle and every order's result."""

    dtype: str
    kind: str
    terms: int
    value: list[np.ndarray] = field(default_factory=list)
    abs_sum: list[np.ndarray] = field(default_factory=list)
    root_sum_squares: list[np.ndarray] = field(default_factory=list)
    oracle: list[np.ndarray] = field(default_factory=list)
    layers: dict[str, list[np.ndarray]] = field(default_factory=lambda: {o: [] for o in ORDERS})

    def add(self, a: np.ndarray, b: np.ndarray) -> None:
        """Sum the rows of a, b (rows, n), float64, rounded to this study's dtype first."""
        a, b = a.astype(self.dtype), b.astype(self.dtype)
        for order in ORDERS:
            self.layers[order].append(layer_sums(a, b, order).astype(np.float64))
        a, b = a.astype(np.float64), b.astype(np.float64)
        t = a * b
        self.abs_sum.append(np.sum(np.abs(t), axis=1))
        self.root_sum_squares.append(np.sqrt(np.sum(t * t, axis=1)))
        del t
        exact = np.sum(a.astype(np.longdouble) * b.astype(np.longdouble), axis=1)
        self.value.append(exact.astype(np.float64))
        self.oracle.append(oracle_sums(a, b))

    def sums(self) -> Sums:
        join = np.concatenate
        return Sums(join(self.value), join(self.abs_sum), join(self.root_sum_squares), self.terms)

    def allowance(self) -> Allowance:
        return Tolerance().allowance(self.sums(), self.dtype)


@dataclass(frozen=True)
class Margin:
    """The largest share of a correct layer's error in its allowance, per order, against the
    oracle (as the tool compares) and against the exact sum; and the oracle's own share."""

    dtype: str
    kind: str
    terms: int
    elements: int
    shares: dict[str, float]
    exact_shares: dict[str, float]
    oracle_share: float
    rms_shares: dict[str, float]  # the root mean square share over the elements
    beyond: dict[str, float]  # the fraction of elements off by more than √n·u·scale (1/λ)


def margin(study: Study) -> Margin:
    allowance, exact, oracle = study.allowance(), study.sums().value, np.concatenate(study.oracle)
    shares, exact_shares, rms_shares, beyond = {}, {}, {}, {}
    for order, parts in study.layers.items():
        layer = np.concatenate(parts)
        shares[order] = compare(layer, oracle, allowance).share
        exact_shares[order] = compare(layer, exact, allowance).share
        ratio = np.abs(layer - oracle) / allowance.allowed
        rms_shares[order] = float(np.sqrt(np.mean(ratio**2)))
        beyond[order] = float(np.mean(ratio > 1 / CONFIDENCE))
    return Margin(
        study.dtype,
        study.kind,
        study.terms,
        exact.size,
        shares,
        exact_shares,
        compare(oracle, exact, allowance).share,
        rms_shares,
        beyond,
    )


def elements(n: int, quick: bool) -> int:
    """How many sums of n terms to draw: about TERMS terms in all."""
    terms, least = (QUICK_TERMS, QUICK_MIN_ELEMENTS) if quick else (TERMS, MIN_ELEMENTS)
    return min(MAX_ELEMENTS, max(least, terms // n))


def run_studies(kind: str, n: int, count: int) -> dict[str, Study]:
    """Draw `count` sums of n terms of `kind`, chunk by chunk, and study them in every dtype."""
    rng = np.random.default_rng([SEED, KINDS.index(kind), n])
    studies = {dtype: Study(dtype, kind, n) for dtype in DTYPES}
    rows = max(1, CHUNK_TERMS // n)
    for start in range(0, count, rows):
        a, b = draw(rng, kind, min(rows, count - start), n)
        for study in studies.values():
            study.add(a, b)
    return studies


# --- 2. the detection floor -----------------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    """The smallest errors the rule catches in sums of n terms, and the issue's target."""

    dtype: str
    terms: int
    scale_all: float  # ε·max(|s|, ‖t‖₂) fails in every element
    value_half: float  # (1 + ε)·s fails in half the elements
    value_99: float  # ... in 99% of them
    target: str
    caught: float  # the share of elements in which the target error fails

    @property
    def met(self) -> bool:
        if self.dtype == "float32":
            return self.caught == 1.0
        return self.caught >= 0.99


def floor(study: Study) -> Floor:
    sums, allowance = study.sums(), study.allowance()
    expected = np.concatenate(study.oracle)
    scale = np.maximum(np.abs(sums.value), sums.root_sum_squares)

    def by_scale(eps: float) -> float:
        return compare(expected + eps * scale, expected, allowance).mismatched / expected.size

    def by_value(eps: float) -> float:
        return compare(expected * (1 + eps), expected, allowance).mismatched / expected.size

    if study.dtype == "float32":
        eps = next(e for limit, e in SCALE_TARGETS if study.terms <= limit)
        target, caught = f"{eps:.1%} of scale", by_scale(eps)
    else:
        target, caught = f"{VALUE_TARGET:g} of value", by_value(VALUE_TARGET)
    return Floor(
        study.dtype,
        study.terms,
        bisect_floor(by_scale, 1.0),
        bisect_floor(by_value, 0.5),
        bisect_floor(by_value, 0.99),
        target,
        caught,
    )


# --- 3. end to end --------------------------------------------------------------------------


@dataclass(frozen=True)
class EndToEnd:
    """One tensor of one `check` case: its terms, our layer's share and rule, torch's share."""

    case: str
    dtype: str
    tensor: str
    terms: int
    share: float
    rule: str
    torch_share: float
    status: str
    seconds: float


def end_to_end(params: dict, dtype: str) -> list[EndToEnd]:
    result = check(**params, stride=1, dtype=dtype)
    c = result.case
    label = f"N={c.batch} C={c.in_channels}→{c.out_channels} K={c.kernel_size} L={c.length}"
    counts = tool_term_counts(c.spec, c.batch, c.length)
    return [
        EndToEnd(
            label,
            dtype,
            name,
            counts[name],
            e.share,
            e.rule,
            result.torch_errors[name].share,
            str(result.status),
            result.seconds,
        )
        for name, e in result.errors.items()
    ]


# --- the report -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    cpu = names[0] if names else platform.processor() or "unknown"
    blas = ", ".join(
        f"{i['internal_api']} {i['version']}" for i in threadpool_info() if i["user_api"] == "blas"
    )
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores (os.cpu_count())",
        "Python": platform.python_version(),
        "numpy": f"{np.__version__} (BLAS: {blas or 'unknown'})",
        "torch": torch.__version__,
        "long double": f"{np.finfo(np.longdouble).nmant + 1}-bit mantissa",
    }


def fmt(x: float) -> str:
    """Three significant digits, more where those would round a share below 1 up to 1."""
    if math.isinf(x):
        return "inf"
    text = f"{x:.3g}"
    return f"{x:.5f}" if x < 1 <= float(text) else text


def power(n: int) -> str:
    return f"10^{round(math.log10(n))}"


def margin_rows(margins: list[Margin]) -> tuple[list[str], list[list[str]]]:
    head = ["dtype", "terms", "n", "elements", *ORDERS, "oracle vs exact"]
    rows = [
        [m.dtype, m.kind, power(m.terms), str(m.elements)]
        + [fmt(m.shares[o]) if m.shares[o] <= 1 else f"**{fmt(m.shares[o])}**" for o in ORDERS]
        + [fmt(m.oracle_share)]
        for m in margins
    ]
    return head, rows


def floor_rows(floors: list[Floor]) -> tuple[list[str], list[list[str]]]:
    head = [
        "dtype",
        "n",
        "ε of scale: all fail",
        "ε of value: 50% fail",
        "ε of value: 99% fail",
        "target",
        "target fails in",
        "met",
    ]
    rows = [
        [
            f.dtype,
            power(f.terms),
            fmt(f.scale_all),
            fmt(f.value_half),
            fmt(f.value_99),
            f.target,
            f"{f.caught:.2%}",
            "yes" if f.met else "**NO**",
        ]
        for f in floors
    ]
    return head, rows


def e2e_rows(results: list[EndToEnd]) -> tuple[list[str], list[list[str]]]:
    head = ["case", "dtype", "tensor", "n", "share", "rule", "torch's share", "status", "s"]
    rows = [
        [
            r.case,
            r.dtype,
            r.tensor,
            str(r.terms),
            fmt(r.share),
            r.rule,
            fmt(r.torch_share),
            r.status,
            f"{r.seconds:.1f}",
        ]
        for r in results
    ]
    return head, rows


def rich_table(title: str, head: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title)
    for h in head:
        table.add_column(h, justify="left" if h in ("dtype", "terms", "case", "rule") else "right")
    for row in rows:
        table.add_row(*(cell.replace("**", "") for cell in row))
    return table


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def growth(ratio: float) -> str:
    """What a change of the RMS share from the smallest n to the largest says."""
    if 1 / 3 <= ratio <= 3:
        return "flat: the errors grow like √n, as the rule assumes"
    return f"**{ratio:.3g}× apart: the errors do not grow like √n**"


def findings(margins: list[Margin], floors: list[Floor], results: list[EndToEnd]) -> list[str]:
    """The report's findings, computed: the largest shares, the floors against the targets."""
    top = max(((m.shares[o], o, m) for m in margins for o in ORDERS), key=lambda x: x[0])
    share, order, m = top
    over = [(o, m) for m in margins for o in ORDERS if m.shares[o] > 1]
    lines = [
        f"Largest share of a correct layer: {share:.3g}, {m.dtype} {order}, {m.kind} terms, "
        f"n = {m.terms} ({m.elements} elements): a margin of {1 / share:.1f}× below failing."
    ]
    if over:
        lines.append(f"**A correct order exceeds share 1 in {len(over)} (dtype, order, n)**.")
    largest = power(max(m.terms for m in margins))
    for dtype in DTYPES:
        ours = [m for m in margins if m.dtype == dtype]
        seq = [max(m.shares[o] for o in ORDERS[:2]) for m in ours]
        rms = [m.rms_shares["sequential"] for m in ours if m.kind == "N·N"]
        rest = max(m.shares[o] for m in ours for o in ORDERS[2:])
        line = (
            f"{dtype}: the sequential and reversed orders reach {min(seq):.3g} to {max(seq):.3g} "
            f"at every n; the sequential RMS share (N·N) is {rms[0]:.3g} at n = 10^2 and "
            f"{rms[-1]:.3g} at {largest} ({growth(rms[-1] / rms[0])}); "
            f"pairwise, blocked and nested reach at most {rest:.3g}."
        )
        if dtype == "float64":
            line += (
                f" Against the exact sum instead of the oracle: at most "
                f"{max(max(m.exact_shares.values()) for m in ours):.3g}; the oracle's own error "
                f"takes at most {max(m.oracle_share for m in ours):.3g} of the allowance."
            )
        lines.append(line)
    f32 = [m for m in margins if m.dtype == "float32"]
    elements = sum(m.elements for m in f32)
    beyond = sum(m.beyond["sequential"] * m.elements for m in f32) / elements
    lines.append(
        f"{beyond:.2%} of the {elements} float32 sequential sums are off by more than "
        f"√n·u·max(|s|, ‖t‖₂) (share > 1/λ), where the comment on CONFIDENCE in tolerance.py "
        f"says about one element in 10^12; the failing line, λ = {CONFIDENCE:g} times that, is "
        f"{CONFIDENCE / (max(m.rms_shares['sequential'] for m in f32) * CONFIDENCE):.0f} RMS "
        "errors away."
    )
    missed = [f for f in floors if not f.met]
    if missed:
        lines.append(
            "**Targets missed: "
            + ", ".join(f"{f.dtype} n={power(f.terms)} ({f.target})" for f in missed)
            + "**."
        )
    else:
        worst32 = max(f.scale_all for f in floors if f.dtype == "float32")
        worst64 = max(f.value_99 for f in floors if f.dtype == "float64")
        lines.append(
            f"Every target is met: float32 fails {fmt(worst32)} of the scale in every element at "
            f"every size; float64 fails {fmt(worst64)} of the value in 99% of the elements."
        )
    if results:
        r = max(results, key=lambda r: r.share)
        probable = [x for x in results if x.rule == PROBABLE]
        failed = [x for x in results if x.status != "pass"]
        line = (
            f"End to end, {len(failed) or 'no'} check fails. The largest share is {fmt(r.share)} "
            f"({r.dtype} {r.tensor} of {r.case}, n = {r.terms}, {r.rule})"
        )
        if r.rule == WORST_CASE:
            line += (
                ": with so few terms the worst case γ_n(u)·Σ|t| is the allowance, and one "
                "rounding can use nearly all of it (for one product, u/(1 + u) of |t| against "
                "γ_1(u) = u/(1 − u)), never more"
            )
        if probable:
            line += (
                f". Under the √n·u rule ours reaches {fmt(max(x.share for x in probable))} and "
                f"torch's own float32 {fmt(max(x.torch_share for x in probable))}"
            )
        lines.append(line + ".")
    return lines


def write_markdown(
    path: Path,
    command: str,
    margins: list[Margin],
    floors: list[Floor],
    results: list[EndToEnd],
    seconds: float,
    rules: tuple[list[RuleShares], list[RuleFloor]],
) -> None:
    sizes = sorted({(m.terms, m.elements) for m in margins})
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux
    counts = ", ".join(f"{count} at {power(n)}" for n, count in sizes)
    text = f"""# Accuracy of the pass rule (issue 11, part 2)

The pass rule (`conv1d_check/check/tolerance.py`, λ = CONFIDENCE = {CONFIDENCE:g}) allows, per
element, min(γ_n(u)·Σ|t|, λ·√n·u·max(|s|, ‖t‖₂)) + the same with float64's u (the worst
case alone where the terms hardly vary, part 4; `--rule normwise`, part 4 too). This study
measures how much of that a correct layer uses, and how small an error still fails. The method
is in the docstring of `benchmarks/accuracy.py`.

## Reproduce

```bash
. .venv/bin/activate
{command}   # {seconds:.0f} s and {peak_gb:.1f} GB at the peak here; --quick: sizes to 10^6
```

## Machine

{chr(10).join(f"- {k}: {v}" for k, v in machine().items())}
- one thread for torch and BLAS (as the tool runs)

## 1. Margin of correct layers

The largest error / allowed ("share") over all elements of each size; a correct layer passes
while it is below 1. Terms: a·b with a ~ N(0,1) and b ~ N(0,1)
(as in dW, db) or b ~ U(-k, k), k = 1/√n (as in y, dX), the inputs rounded to the dtype, each
product rounded in it (blocked: OpenBLAS's dot, with FMA). Expected: the tool's oracle, torch's
float64 convolution; "oracle vs exact" is the oracle's own error as a share of the same
allowance.

Elements per size: {counts}.

{markdown_table(*margin_rows(margins))}

## 2. Detection floor

The smallest ε that fails, by bisection on the N·N sums of part 1 (the same elements):
expected + ε·max(|s|, ‖t‖₂) failing in every element, and expected·(1 + ε) failing in half or
99% of them (an element whose terms cancel to almost 0 hides any relative error of its value
below its rounding). Targets: float32 fails 0.1% of the scale up to 10^4 terms and 1% up to
10^7 in every element; float64 fails a relative error of 1e-9 (counted met when 99% of
elements fail).

{markdown_table(*floor_rows(floors))}

## 3. End to end

`conv1d_check.check(..., stride=1, dtype=...)` on the built-in layer: each tensor's share and
the rule that set its allowance (worst case: γ_n(u)·Σ|t| was the smaller), and torch's own
share against the same oracle.

{markdown_table(*e2e_rows(results))}

## Findings

{chr(10).join(f"- {line}" for line in findings(margins, floors, results))}

{rules_section(*rules, markdown_table)}"""
    path.write_text(text)


def main(
    quick: Annotated[
        bool, typer.Option("--quick", help="sizes up to 10⁶, fewer elements, smaller checks")
    ] = False,
    markdown: Annotated[
        Path | None,
        typer.Option(help="write the report here (default: benchmarks/ACCURACY.md, not --quick)"),
    ] = None,
) -> None:
    """Measure the pass rule's margin and detection floor; print the tables, write the report."""
    start = time.perf_counter()
    console = Console()
    if not console.is_terminal:
        console = Console(width=180)  # a file or a pipe: keep the tables' full width
    if markdown is None and not quick:
        markdown = Path(__file__).with_name("ACCURACY.md")
    margins, floors, results = [], [], []
    with torch_side.one_thread():
        for n in QUICK_SIZES if quick else SIZES:
            count = elements(n, quick)
            for kind in KINDS:
                console.log(f"n = {n}, {kind}: {count} elements")
                studies = run_studies(kind, n, count)
                margins += [margin(s) for s in studies.values()]
                if kind == "N·N":
                    floors += [floor(s) for s in studies.values()]
        for params in QUICK_E2E if quick else E2E:
            dtypes = E2E_DTYPES if params["in_channels"] == 1 else ("float32",)
            for dtype in dtypes:
                console.log(f"check {params} {dtype}")
                results += end_to_end(params, dtype)
    rules = run_rules(quick, console.log)
    margins.sort(key=lambda m: (DTYPES.index(m.dtype), KINDS.index(m.kind), m.terms))
    floors.sort(key=lambda f: (DTYPES.index(f.dtype), f.terms))
    console.print(rich_table("Margin: largest error / allowed", *margin_rows(margins)))
    console.print(rich_table("Detection floor", *floor_rows(floors)))
    console.print(rich_table("End to end: check()", *e2e_rows(results)))
    console.print(rich_table("Every rule: largest share", *rule_share_rows(rules[0])))
    console.print(rich_table("Every rule: smallest error caught", *rule_floor_rows(rules[1])))
    for line in findings(margins, floors, results):
        console.print(line.replace("**", ""))
    if markdown is not None:
        command = "python benchmarks/accuracy.py" + (" --quick" if quick else "")
        seconds = time.perf_counter() - start
        write_markdown(markdown, command, margins, floors, results, seconds, rules)
        console.print(f"wrote {markdown}")


if __name__ == "__main__":
    typer.run(main)
