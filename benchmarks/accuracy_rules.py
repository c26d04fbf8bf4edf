"""Part 4 of the accuracy study (issue 23): every pass rule, on zero-mean and on shifted data.

    python benchmarks/accuracy_rules.py [--quick]     # this part alone; accuracy.py runs it too

Each element is a sum s = Σ a_i·b_i of n terms, a, b ~ N(0, 1) ("zero-mean", the tool's own
kind) or 100 + N(0, 1) ("shifted": x and dy of a user's batch far from zero mean), rounded to
the dtype once. Correct layers sum them in that dtype: sequential (np.cumsum), pairwise
(np.sum), blocked (np.matmul: OpenBLAS), fft (the correlation at lag 0 through np.fft, complex64
in float32) and torch (its own conv1d in that dtype: the dW of a depthwise K = 1 layer). Against
the tool's oracle, each layer's largest share of the allowance under four rules:

- worst case alone: γ_n(u)·Σ|t|;
- √n·u alone: λ·√n·u·max(|s|, ‖t‖₂), whatever the terms (the probable bound as it was);
- element-wise (the default rule): the smaller of the two where the terms vary (tolerance.varied),
  the worst case where they do not;
- normwise (`--rule normwise`): a tensor passes the element-wise rule or has its error norm
  within the norm-wise bound, so its share is the smaller of the two.

Sizes from 3 terms (short sums, where the worst case sets the allowance and one rounding can use
most of it) to 10⁶. And the smallest relative error of the value, s·(1 + ε), each rule catches:
element-wise in 99% of the elements; normwise, which must fail both, the larger of that and the
ε whose norm exceeds the norm-wise bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from conv1d_check.check import torch_side
from conv1d_check.check.normwise import norm, normwise_bound
from conv1d_check.check.tolerance import (
    CONFIDENCE,
    U64,
    Sums,
    Tolerance,
    compare,
    gamma,
    unit_roundoff,
)
from conv1d_check.nn.spec import ConvSpec

DTYPES = ("float32", "float64")
KINDS = ("zero-mean", "shifted")
SHIFT = 100.0
LAYERS = ("sequential", "pairwise", "blocked", "fft", "torch")
RULES = ("worst case", "√n·u alone", "element-wise", "normwise")
SIZES = (3, 10, *(10**e for e in range(2, 7)))
QUICK_SIZES = (3, 10**2, 10**4, 10**6)
TERMS, MAX_ELEMENTS, MIN_ELEMENTS = 4 * 10**6, 2000, 3
SEED = 23


def layer_sums(a: np.ndarray, b: np.ndarray, layer: str) -> np.ndarray:
    """Σ_i a_i·b_i of each row of a, b (rows, n), computed in their dtype by `layer`: (rows,)."""
    if layer == "blocked":
        return np.matmul(a[:, None, :], b[:, :, None])[:, 0, 0]
    if layer == "fft":
        m = 1 << (2 * a.shape[1] - 1).bit_length()
        spectrum = np.fft.rfft(a, m) * np.conj(np.fft.rfft(b, m))
        return np.fft.irfft(spectrum, m)[:, 0]
    if layer == "torch":
        rows = a.shape[0]
        spec = ConvSpec(rows, rows, 1, groups=rows, bias=False)
        ones = np.ones((rows, 1, 1), a.dtype)
        return torch_side.conv1d(spec, a[None], ones, None, b[None])["dW"][:, 0, 0]
    t = a * b
    if layer == "sequential":
        return np.cumsum(t, axis=1, dtype=t.dtype)[:, -1]
    return np.sum(t, axis=1, dtype=t.dtype)  # pairwise


@dataclass(frozen=True)
class RuleShares:
    """One (dtype, kind, n, layer): its largest share under each rule."""

    dtype: str
    kind: str
    terms: int
    layer: str
    shares: dict[str, float]


@dataclass(frozen=True)
class RuleFloor:
    """One (dtype, kind, n): the smallest relative error of the value each rule catches."""

    dtype: str
    kind: str
    terms: int
    elementwise: float  # fails in 99% of the elements
    normwise: float  # fails the tensor


def study(dtype: str, kind: str, n: int) -> tuple[list[RuleShares], RuleFloor]:
    rows = min(MAX_ELEMENTS, max(MIN_ELEMENTS, TERMS // n))
    rng = np.random.default_rng([SEED, KINDS.index(kind), n])
    shift = SHIFT if kind == "shifted" else 0.0
    a = (shift + rng.standard_normal((rows, n))).astype(dtype)
    b = (shift + rng.standard_normal((rows, n))).astype(dtype)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    t = a64 * b64
    sums = Sums(
        np.sum(a64.astype(np.longdouble) * b64, axis=1).astype(np.float64),
        np.sum(np.abs(t), axis=1),
        np.sqrt(np.sum(t * t, axis=1)),
        n,
    )
    del t
    oracle = layer_sums(a64, b64, "torch")
    u = unit_roundoff(dtype)
    scale = np.maximum(np.abs(sums.value), sums.root_sum_squares)
    allowances = {
        "worst case": (gamma(n, u) + gamma(n, U64)) * sums.abs_sum,
        "√n·u alone": CONFIDENCE * math.sqrt(n) * (u + U64) * scale,
        "element-wise": Tolerance().allowance(sums, dtype).allowed,
    }
    bound = normwise_bound(sums, dtype, math.ceil(math.log2(2 * n)))
    found = []
    for layer in LAYERS:
        error = np.abs(layer_sums(a, b, layer).astype(np.float64) - oracle)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = {rule: error / allowed for rule, allowed in allowances.items()}
        shares = {rule: float(np.max(np.where(error == 0, 0, r))) for rule, r in ratios.items()}
        shares["normwise"] = min(shares["element-wise"], norm(error) / bound)
        found.append(RuleShares(dtype, kind, n, layer, shares))
    allowance = Tolerance().allowance(sums, dtype)

    def failing(eps: float) -> float:
        return compare(oracle * (1 + eps), oracle, allowance).mismatched / rows

    elementwise = bisect_floor(failing, 0.99)
    return found, RuleFloor(dtype, kind, n, elementwise, max(elementwise, bound / norm(oracle)))


def bisect_floor(failing: Callable[[float], float], share: float) -> float:
    """The smallest ε (to 0.1%) at which at least `share` of the elements fail; inf if none."""
    lo, hi = 1e-20, 1e3
    if failing(hi) < share:
        return math.inf
    while hi / lo > 1.001:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if failing(mid) >= share else (mid, hi)
    return hi


def run(quick: bool, log=print) -> tuple[list[RuleShares], list[RuleFloor]]:
    shares, floors = [], []
    with torch_side.one_thread():
        for dtype in DTYPES:
            for kind in KINDS:
                for n in QUICK_SIZES if quick else SIZES:
                    log(f"rules: {dtype} {kind} n = {n}")
                    found, floor = study(dtype, kind, n)
                    shares += found
                    floors.append(floor)
    return shares, floors


def _size(n: int) -> str:
    power = round(math.log10(n))
    return f"10^{power}" if 10**power == n else str(n)


def _fmt(x: float) -> str:
    text = "inf" if math.isinf(x) else f"{x:.3g}"
    return f"**{text}**" if x > 1 else text


def share_rows(shares: list[RuleShares]) -> tuple[list[str], list[list[str]]]:
    head = ["dtype", "data", "n", "layer", *RULES]
    rows = [
        [s.dtype, s.kind, _size(s.terms), s.layer] + [_fmt(s.shares[r]) for r in RULES]
        for s in shares
    ]
    return head, rows


def floor_rows(floors: list[RuleFloor]) -> tuple[list[str], list[list[str]]]:
    head = ["dtype", "data", "n", "element-wise: ε failing 99%", "normwise: ε failing"]
    rows = [
        [f.dtype, f.kind, _size(f.terms), f"{f.elementwise:.3g}", f"{f.normwise:.3g}"]
        for f in floors
    ]
    return head, rows


def findings(shares: list[RuleShares]) -> list[str]:
    """The largest share of the layers that sum terms, per rule and kind, and torch's beside."""
    lines = []
    for kind in KINDS:
        for rule in RULES:
            summing = [s for s in shares if s.kind == kind and s.layer not in ("fft", "torch")]
            top = max(summing, key=lambda s: s.shares[rule])
            torch = max(s.shares[rule] for s in shares if s.kind == kind and s.layer == "torch")
            fft = max(s.shares[rule] for s in shares if s.kind == kind and s.layer == "fft")
            lines.append(
                f"{kind}, {rule}: layers that sum terms reach {top.shares[rule]:.3g} ({top.dtype} "
                f"{top.layer}, n = {top.terms}); torch's own {torch:.3g}; the FFT layer {fft:.3g}."
            )
    return lines


if __name__ == "__main__":
    import sys

    from accuracy import markdown_table

    found, floors = run("--quick" in sys.argv)
    print(markdown_table(*share_rows(found)), "", markdown_table(*floor_rows(floors)), sep="\n")
    print("\n".join(findings(found)))


def section(shares: list[RuleShares], floors: list[RuleFloor], table) -> str:
    """The report's part 4, in Markdown; `table(head, rows)` renders a table."""
    return f"""## 4. Every rule, on zero-mean and on shifted data (issue 23)

{__doc__.split(chr(10), 3)[3].strip()}

Shares over 1 are in bold: that rule would fail that correct layer. torch's float64 is the
oracle itself (share 0).

{table(*share_rows(shares))}

{table(*floor_rows(floors))}

{chr(10).join(f"- {line}" for line in findings(shares))}
"""
