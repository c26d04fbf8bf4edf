"""Are the diagnoses ever wrong? A corpus of mutants whose bug is known, judged by the tool.

    python benchmarks/diagnosis.py            # writes benchmarks/DIAGNOSIS.md
    python benchmarks/diagnosis.py --quick    # small sizes only, writes nothing

Each mutant is the built-in layer's correct y, dX, dW and db (or the float64 truth of the
bug) damaged by one bug of a family below, at a small size (sums of about 10² terms) and a
large one (10⁵ to 10⁶ terms in dW and db), in float32 and float64. The tool judges it as it
judges any layer (`verify.judge`) and every finding that makes a claim is scored against the
bug: true when its kind is one the bug explains on that tensor (and a factor, format or mode
it names is the bug's). Precision: the share of claims that are true. Recall: the share of
failing mutants whose bug is named. Then each family is swept over a small grid of parameters
and the failing cases grouped (report/groups.py): one bug should be one group.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conv1d_check.check import torch_side
from conv1d_check.check.case import Case
from conv1d_check.check.diagnosis import Kind
from conv1d_check.check.diagnosis.hypotheses import stride_one_backward, windows
from conv1d_check.check.result import CaseResult, Status
from conv1d_check.check.tensors import make_tensors
from conv1d_check.check.verify import judge
from conv1d_check.nn.padding import fold, pad
from conv1d_check.report.groups import group
from conv1d_check.usercode.builtin import run_builtin
from conv1d_check.usercode.protocol import LayerRun

Tensors = dict[str, np.ndarray]
# Findings that say where a tensor is wrong or what was measured, not why: true of any bug
# whose damage they describe (the places are read off the layer's own mismatches).
WHERE = {Kind.PLACES, Kind.UNEXPLAINED}
SWAPPED = (Kind.AXES_SWAPPED, Kind.SHAPE)


def _truth(case: Case, t: Tensors, **changes: np.ndarray) -> Tensors:
    """The float64 truth for changed inputs, in the case's dtype."""
    inputs = {k: v.astype(np.float64) for k, v in (t | changes).items()}
    out = torch_side.conv1d(case.spec, inputs["x"], inputs["W"], inputs.get("b"), inputs["dy"])
    return {k: v.astype(case.dtype) for k, v in out.items()}


def _flipped(case: Case, t: Tensors, out: Tensors) -> Tensors:
    found = _truth(case, t, W=t["W"][..., ::-1].copy())
    return found | {"dW": found["dW"][..., ::-1].copy()}


def _overwrite(case: Case, t: Tensors, out: Tensors) -> Tensors:
    """dX written window after window with = (the loop of tests/layers/broken_overlap...)."""
    spec, (left, right) = case.spec, case.spec.pads
    x, W, dy = (t[k].astype(np.float64) for k in ("x", "W", "dy"))
    dxp = np.zeros((x.shape[0], x.shape[1], left + x.shape[2] + right))
    taps = np.arange(spec.kernel_size) * spec.dilation
    for i in range(dy.shape[2]):
        dxp[:, :, i * spec.stride + taps] = np.einsum("no,ock->nck", dy[:, :, i], W)
    return out | {"dX": fold(dxp, left, right, spec.padding_mode).astype(case.dtype)}


def _padded_y(case: Case, t: Tensors, xp: np.ndarray) -> np.ndarray:
    """y of an input padded by hand: (N, C_out, L_out) in float64."""
    spec, l_out = case.spec, case.output_length
    W = t["W"].astype(np.float64).reshape(spec.groups, spec.out_per_group, spec.in_per_group, -1)
    y = np.einsum("gock,ngctk->ngot", W, windows(spec, xp, l_out, spec.stride))
    return y.reshape(xp.shape[0], -1, l_out) + t.get("b", np.zeros(1))[:, None]


def _symmetric(case: Case, t: Tensors, out: Tensors) -> Tensors:
    left, right = case.spec.pads
    xp = np.pad(t["x"].astype(np.float64), ((0, 0), (0, 0), (left, right)), mode="symmetric")
    return out | {"y": _padded_y(case, t, xp).astype(case.dtype)}


def _one_edge(case: Case, t: Tensors, out: Tensors) -> Tensors:
    """Zero padding on the left, the last sample repeated on the right."""
    left, right = case.spec.pads
    xp = pad(t["x"].astype(np.float64), left, right, "zeros")
    xp[..., xp.shape[2] - right :] = xp[..., [xp.shape[2] - right - 1]]
    return out | {"y": _padded_y(case, t, xp).astype(case.dtype)}


def _wrong_tap(case: Case, t: Tensors, out: Tensors) -> Tensors:
    W = t["W"].copy()
    W[0, 0, -1] *= 1.5
    return out | {"y": _truth(case, t, W=W)["y"]}


def _group_slice(case: Case, t: Tensors, out: Tensors) -> Tensors:
    """The last group convolved with the first group's weights."""
    og, W = case.spec.out_per_group, t["W"].copy()
    W[-og:] = W[:og]
    return out | {"y": _truth(case, t, W=W)["y"]}


def _one_dw(case: Case, t: Tensors, out: Tensors) -> Tensors:
    dW = out["dW"].copy()
    dW[0, 0, 0] += np.abs(dW).max()
    return out | {"dW": dW}


def _float16_dw(case: Case, t: Tensors, out: Tensors) -> Tensors:
    """dW summed in float16 (numpy's pairwise sum): products and partial sums rounded."""
    spec, l_out = case.spec, case.output_length
    xp = pad(t["x"], *spec.pads, spec.padding_mode).astype(np.float16)
    cols = windows(spec, xp, l_out, spec.stride)[:, 0]  # (N, C_in, L_out, K), one group
    terms = np.einsum("not,nctk->ocknt", t["dy"].astype(np.float16), cols)
    dW = terms.reshape(*terms.shape[:3], -1).sum(axis=-1, dtype=np.float16)
    return out | {"dW": dW.astype(case.dtype)}


def _float32(case: Case, t: Tensors, out: Tensors) -> Tensors:
    inputs = {k: v.astype(np.float32) for k, v in t.items()}
    found = torch_side.conv1d(case.spec, inputs["x"], inputs["W"], inputs.get("b"), inputs["dy"])
    return {k: v.astype(case.dtype) for k, v in found.items()}


def _bfloat16_y(case: Case, t: Tensors, out: Tensors) -> Tensors:
    y = out["y"].astype(np.float32)
    y.view(np.uint32)[...] &= 0xFFFF0000
    return out | {"y": y.astype(case.dtype)}


def _rounding(case: Case, t: Tensors, out: Tensors) -> Tensors:
    """An FFT's kind of error: a few ulps of the tensor's largest element, everywhere."""
    rng = np.random.default_rng(1)
    y = out["y"].astype(np.float64)
    noise = 8 * np.finfo(case.dtype).eps * np.abs(y).max() * rng.uniform(-1, 1, y.shape)
    return out | {"y": (y + noise).astype(case.dtype)}


def _times(names: str, factor: Callable[[Case], float]) -> Callable:
    def damage(case: Case, t: Tensors, out: Tensors) -> Tensors:
        return out | {n: (out[n] * factor(case)).astype(out[n].dtype) for n in names.split()}

    return damage


def _samples(case: Case, t: Tensors, keep: slice) -> Tensors:
    found = _truth(case, t, x=t["x"][keep], dy=t["dy"][keep])
    return {"dW": found["dW"], "db": found["db"]}


@dataclass(frozen=True)
class Bug:
    """A family: how it damages a correct layer's tensors, the kinds that are true of it on
    each tensor it damages, the kind that names it, and the names a true claim of that kind
    gives (None: any; (): none, as for a factor no parameter gives)."""

    damage: Callable[[Case, Tensors, Tensors], Tensors]
    kinds: dict[str, set[Kind]]
    named_by: Kind
    names: tuple[str, ...] | None = None
    params: dict = field(default_factory=dict)
    dtypes: tuple[str, ...] = ("float32", "float64")
    large: bool = True


def _all(names: str, *kinds: Kind) -> dict[str, set[Kind]]:
    return {n: set(kinds) for n in names.split()}


SIZES = {  # sums of about 10² terms, then 10⁵ to 10⁶ in dW and db
    "small": {"in_channels": 3, "out_channels": 4, "batch": 3, "length": 24},
    "large": {"in_channels": 2, "out_channels": 2, "batch": 1000, "length": 400},
}
BUGS: dict[str, Bug] = {
    "flipped kernel in backward only": Bug(
        lambda c, t, o: o | {"dX": _flipped(c, t, o)["dX"]},
        _all("dX", Kind.FLIPPED_KERNEL),
        Kind.FLIPPED_KERNEL,
    ),
    "flipped kernel": Bug(
        lambda c, t, o: o | {k: v for k, v in _flipped(c, t, o).items() if k != "db"},
        _all("y dX dW", Kind.FLIPPED_KERNEL),
        Kind.FLIPPED_KERNEL,
    ),
    "dW × (1 + 64u)": Bug(
        lambda c, t, o: o | {"dW": o["dW"] * (1 + 64 * np.finfo(c.dtype).eps)},
        _all("dW", Kind.FACTOR),
        Kind.FACTOR,
        (),
    ),
    "gradients × (1 + 1/N)": Bug(
        _times("dX dW db", lambda c: 1 + 1 / c.batch),
        _all("dX dW db", Kind.FACTOR),
        Kind.FACTOR,
        (),
    ),
    "batch mean": Bug(
        _times("dW db", lambda c: 1 / c.batch), _all("dW db", Kind.FACTOR), Kind.FACTOR, ("1/N",)
    ),
    "dW × K": Bug(
        _times("dW", lambda c: c.kernel_size), _all("dW", Kind.FACTOR), Kind.FACTOR, ("K",)
    ),
    "dX sign flipped": Bug(
        _times("dX", lambda c: -1), _all("dX", Kind.FACTOR), Kind.FACTOR, ("-1",)
    ),
    "dW summed in float16": Bug(
        _float16_dw,
        _all("dW", Kind.PRECISION),
        Kind.PRECISION,
        ("float16",),
        {"in_channels": 1, "out_channels": 1},
        ("float32",),
    ),
    "computed in float32": Bug(
        _float32,
        _all("y dX dW db", Kind.PRECISION),
        Kind.PRECISION,
        ("float32",),
        dtypes=("float64",),
    ),
    "y stored in bfloat16": Bug(
        _bfloat16_y, _all("y", Kind.PRECISION), Kind.PRECISION, ("bfloat16",)
    ),
    "last sample missing from dW, db": Bug(
        lambda c, t, o: o | _samples(c, t, slice(0, -1)),
        _all("dW db", Kind.SAMPLES),
        Kind.SAMPLES,
    ),
    "dW, db of sample 0 only": Bug(
        lambda c, t, o: o | _samples(c, t, slice(0, 1)), _all("dW db", Kind.SAMPLES), Kind.SAMPLES
    ),
    "wrong tap in one channel": Bug(_wrong_tap, _all("y", Kind.PLACES), Kind.PLACES),
    "one wrong dW element": Bug(_one_dw, _all("dW", Kind.PLACES), Kind.PLACES),
    "padding wrong at one edge": Bug(
        _one_edge, _all("y", Kind.PLACES), Kind.PLACES, params={"padding": 2}
    ),
    "reflect padded as symmetric": Bug(
        _symmetric,
        _all("y", Kind.PADDING_MODE),
        Kind.PADDING_MODE,
        ("symmetric",),
        {"padding": 2, "padding_mode": "reflect"},
    ),
    "a group with another group's weights": Bug(
        _group_slice,
        _all("y", Kind.PLACES),
        Kind.PLACES,
        params={"groups": 2, "in_channels": 2, "out_channels": 4},
    ),
    "overlap written with =": Bug(
        _overwrite,
        _all("dX", Kind.OVERLAP_OVERWRITE),
        Kind.OVERLAP_OVERWRITE,
        params={"kernel_size": 3, "stride": 1},
        large=False,
    ),
    "bias missing": Bug(
        lambda c, t, o: o | {"y": (o["y"] - t["b"][:, None]).astype(c.dtype)},
        _all("y", Kind.BIAS_MISSING),
        Kind.BIAS_MISSING,
    ),
    "db over the wrong axes": Bug(
        lambda c, t, o: o | {"db": t["dy"].sum(axis=(1, 2))},
        _all("db", Kind.DB_AXES, Kind.SHAPE),
        Kind.DB_AXES,
        params={"batch": 4},
        large=False,
    ),
    "dW axes swapped": Bug(
        lambda c, t, o: o | {"dW": o["dW"].transpose(1, 0, 2).copy()},
        _all("dW", Kind.AXES_SWAPPED, Kind.SHAPE),
        Kind.AXES_SWAPPED,
    ),
    "dX never computed": Bug(
        lambda c, t, o: o | {"dX": np.zeros_like(o["dX"])}, _all("dX", Kind.ZEROS), Kind.ZEROS
    ),
    "NaN in y": Bug(
        lambda c, t, o: o | {"y": np.where(np.arange(o["y"].shape[2]) == 0, np.nan, o["y"])},
        _all("y", Kind.NONFINITE),
        Kind.NONFINITE,
    ),
    "y one position short": Bug(
        lambda c, t, o: o | {"y": o["y"][..., :-1]}, _all("y", Kind.SHAPE), Kind.SHAPE
    ),
    "y returned in float32": Bug(
        lambda c, t, o: o | {"y": o["y"].astype(np.float32)},
        _all("y", Kind.DTYPE),
        Kind.DTYPE,
        dtypes=("float64",),
    ),
    "FFT-level rounding in y": Bug(_rounding, _all("y", Kind.ROUNDING), Kind.ROUNDING),
}
# The stride ignored in backward: only where stride > 1.
BUGS["stride ignored in backward"] = Bug(
    lambda c, t, o: o | _stride_one(c, t),
    _all("dX dW", Kind.STRIDE_IGNORED),
    Kind.STRIDE_IGNORED,
    params={"stride": 2, "kernel_size": 3},
)


def _stride_one(case: Case, t: Tensors) -> Tensors:
    found = stride_one_backward(case.spec, {k: v.astype(np.float64) for k, v in t.items()})
    return {k: v.astype(case.dtype) for k, v in found.items()}


def run(case: Case, bug: Bug) -> CaseResult:
    """The tool's judgement of the built-in layer's tensors, damaged by `bug`."""
    tensors = make_tensors(case)
    out = run_builtin(case.spec, tensors).tensors
    result = CaseResult(case, Status.PASS)
    judge(result, tensors, LayerRun(bug.damage(case, tensors, out)))
    return result


def score(result: CaseResult, bug: Bug) -> tuple[int, int, bool]:
    """(claims, true claims, named) of one mutant's findings."""
    claims = true = 0
    named = False
    for f in result.findings:
        if f.kind in (Kind.CONSISTENCY, Kind.TORCH_DRIFT):
            continue
        claims += 1
        right_kind = f.kind in bug.kinds.get(f.tensor, set()) or (
            f.kind in WHERE and f.tensor in bug.kinds
        )
        right_names = (
            f.kind != bug.named_by
            or bug.names is None
            or (set(f.names) & set(bug.names) if bug.names else not f.names)
        )
        true += bool(right_kind and right_names)
        # a square dW swapped is the truth transposed; any other, a wrong shape
        names_it = f.kind == bug.named_by or (bug.named_by, f.kind) == SWAPPED
        named |= names_it and right_kind and bool(right_names)
    return claims, true, named


def corpus(quick: bool) -> list[tuple[str, str, str, CaseResult, tuple[int, int, bool]]]:
    rows = []
    for (name, bug), size, dtype in itertools.product(BUGS.items(), SIZES, ("float32", "float64")):
        if dtype not in bug.dtypes or (size == "large" and (quick or not bug.large)):
            continue
        params = SIZES[size] | bug.params
        if size == "large" and "out_channels" in bug.params:
            params["out_channels"] = max(bug.params["out_channels"], SIZES[size]["out_channels"])
        case = Case(dtype=dtype, **params).validate()
        result = run(case, bug)
        rows.append((name, size, dtype, result, score(result, bug)))
    return rows


GRID = {"batch": (2, 3, 5), "stride": (1, 2), "kernel_size": (2, 3), "length": (9, 16)}


def groups_per_bug() -> dict[str, tuple[int, int]]:
    """For each family: (failing cases, groups) over GRID, in the dtypes it applies to."""
    found = {}
    for name, bug in BUGS.items():
        results = []
        for values in itertools.product(*GRID.values(), bug.dtypes):
            params = SIZES["small"] | dict(zip(GRID, values[:-1], strict=True)) | bug.params
            try:
                case = Case(dtype=values[-1], **params).validate()
            except ValueError:
                continue
            results.append(run(case, bug))
        failing = [r for r in results if r.status == Status.FAIL]
        found[name] = (len(failing), len(group(results)))
    return found


def report(rows: list, sweeps: dict[str, tuple[int, int]], seconds: float) -> str:
    claims = sum(r[4][0] for r in rows)
    true = sum(r[4][1] for r in rows)
    failing = [r for r in rows if r[3].status == Status.FAIL]
    named = sum(r[4][2] for r in failing)
    lines = [
        "# Diagnosis benchmark",
        "",
        "Written by `python benchmarks/diagnosis.py` (see its docstring for the method).",
        "",
        f"- mutants: {len(rows)}, of which failing: {len(failing)}",
        f"- **precision**: {true} / {claims} claims true ({100 * true / max(claims, 1):.1f}%)",
        f"- **recall**: {named} / {len(failing)} failing mutants named "
        f"({100 * named / max(len(failing), 1):.1f}%)",
        f"- **groups per bug** over the sweeps: at most {max(g for _, g in sweeps.values())}",
        f"- in {seconds:.0f} s",
        "",
        "| bug | size | dtype | status | named | claims true | diagnosis |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, size, dtype, result, (c, t, n) in rows:
        said = "; ".join(result.diagnosis).replace("|", "/")
        lines.append(
            f"| {name} | {size} | {dtype} | {result.status} | {'yes' if n else 'no'} | "
            f"{t}/{c} | {said} |"
        )
    lines += ["", "| bug (swept) | failing cases | groups |", "|---|---|---|"]
    lines += [f"| {name} | {cases} | {groups} |" for name, (cases, groups) in sweeps.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only, write nothing")
    args = parser.parse_args()
    start = time.perf_counter()
    with torch_side.one_thread():
        rows = corpus(args.quick)
        sweeps = groups_per_bug()
    text = report(rows, sweeps, time.perf_counter() - start)
    if args.quick:
        print(text)
    else:
        (Path(__file__).parent / "DIAGNOSIS.md").write_text(text)
        print(text.split("\n| bug |")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
