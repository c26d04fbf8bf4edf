"""Findings in words: the only place a diagnosis becomes text (the terminal, the JSON's
`diagnosis` strings, JUnit and Markdown all read these lines); and the layer's traceback as
Python prints it, for the terminal and the API's AssertionError."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .finding import Finding, Kind
from .samples import ranges

# What a factor named after a parameter means; "1/X" reads "1/X = 1/value of the truth".
AVERAGED = {
    "1/N": "averaged over the batch instead of summed",
    "1/L_out": "averaged over the output positions instead of summed",
    "1/(N·L_out)": "averaged over the batch and the positions instead of summed",
}
MULTIPLES = {"K": "K, the kernel size", "stride": "the stride", "C_in": "C_in", "C_out": "C_out"}
CONSTANTS = {
    "-1": "the truth with its sign flipped",
    # not "accumulated over two backward calls": each case runs backward once, on a fresh layer
    "2": "twice the truth: counted twice",
    "1/2": "half the truth",
}
# Bugs whose words do not depend on their numbers.
FIXED = {
    Kind.ZEROS: "all zeros: never computed",
    Kind.STRIDE_IGNORED: "matches a backward that ignores the stride (each output position's "
    "gradient scattered as if stride were 1)",
    Kind.OWN_WEIGHTS: "matches the layer's own initial weights: the weights put into it did not "
    "take effect (does it copy W at construction?)",
    Kind.AXES_SWAPPED: "C_out and C_in axes swapped",
    Kind.DB_AXES: "the sum of dy over the channels and positions (axes 1 and 2): db sums over "
    "the batch and the positions (axes 0 and 2), one value per output channel",
    Kind.BIAS_MISSING: "the bias is missing from y",
    Kind.OVERLAP_OVERWRITE: "matches a backward that writes each window's contribution with = "
    "instead of +=: wrong where windows overlap (overlapping contributions overwrite each other "
    "instead of adding up)",
}


TRACEBACK_FRAMES = 4  # of the layer's own, innermost last, shown (the JSON has them all)
# Kinds that do not make a tensor wrong: what "your forward is wrong" must not rest on.
NOT_WRONG = (Kind.CONSISTENCY, Kind.TORCH_DRIFT, Kind.ROUNDING)


def lines(findings: Iterable[Finding]) -> list[str]:
    """Each finding as `tensor: words`; the consistency findings as one line; torch's drift."""
    findings = list(findings)
    failing = {f.tensor for f in findings if f.kind not in NOT_WRONG}
    found = [
        f"{f.tensor}: {words(f, failing)}"
        for f in findings
        if f.kind not in (Kind.CONSISTENCY, Kind.TORCH_DRIFT)
    ]
    found += consistency_line([f for f in findings if f.kind == Kind.CONSISTENCY], failing)
    found += [_torch_drift(f) for f in findings if f.kind == Kind.TORCH_DRIFT]
    return found


def words(finding: Finding, failing: set[str] = frozenset()) -> str:
    """One finding in words; `failing`: the case's failing tensors (a backward-only bug reads
    differently from one in the forward too)."""
    if finding.kind in FIXED:
        return FIXED[finding.kind]
    return WORDS[finding.kind](finding, failing)


def _shape(f: Finding, failing: set[str]) -> str:
    shape, expected = tuple(f.evidence["shape"]), tuple(f.evidence["expected"])
    how = f.names[0] if f.names else ""
    if how == "order":
        return (
            f"has the shape of {f.evidence['like']} {shape}: backward's results in another "
            "order? seed returns (db, dW, dX), functional (dx, dw, db)"
        )
    if how == "axes":
        usual = "(N, C, L)" if f.tensor in ("y", "dX") else expected
        return (
            f"has {len(shape)} axes, not {len(expected)} {expected}: a 1-D convolution's "
            f"{f.tensor} is {usual}"
        )
    if how == "swapped":
        return f"shape {shape} is {expected} with axes {f.evidence['axes']} swapped"
    if how == "L_out":
        positions = f"position{'s' if shape[-1] != 1 else ''}"
        return (
            f"{shape[-1]} output {positions} instead of {expected[-1]}: torch's L_out is "
            f"(L + 2·padding − dilation·(K − 1) − 1) // stride + 1 = {f.evidence['l_out']}"
        )
    if how == "db":
        return (
            f"db has shape {shape}: it is the sum of dy over the batch and the positions "
            "(axes 0 and 2), one value per output channel"
        )
    return f"shape {shape}, expected {expected}"


def _nonfinite(f: Finding, failing: set[str]) -> str:
    e = f.evidence
    return f"{' and '.join(f.names)} in {e['count']} of {e['total']} elements, first at " + str(
        tuple(e["first"])
    )


def _dtype(f: Finding, failing: set[str]) -> str:
    (actual,), dtype = f.names, f.evidence["checked"]
    if f.evidence.get("values") == "right":
        return (
            f"the values are right but the dtype is {actual}: torch keeps the input's {dtype} "
            "(allocate with the input's dtype, e.g. np.zeros(shape, dtype=x.dtype))"
        )
    return f"returned as {actual} in a {dtype} check: it is computed or stored in {actual}"


def _rounding(f: Finding, failing: set[str]) -> str:
    e = f.evidence
    if "share" in e:  # measured against the norm-wise bound (diagnosis/transform.py)
        return (
            f"transform rounding, not a bug: {e['spread']:.0%} of the elements are off by "
            f"rounding and the error's norm is {e['share']:.2g} of the norm-wise bound of an FFT "
            "or Winograd layer; if the layer convolves through a transform, use --rule normwise"
        )
    return (
        f"the error ({e['error']:.2g}) is tiny next to the tensor's size ({e['scale']:.2g}): "
        "norm-wise rounding, as from an FFT or Winograd algorithm, rather than a bug; "
        "--rule normwise judges it by its norm (or --atol/--rtol)"
    )


def _factor(f: Finding, failing: set[str]) -> str:
    ratio = f.evidence["ratio"]
    if not f.names:
        return f"a constant {ratio:.6g} times the truth, a factor no parameter of the case gives"
    return "exactly " + " or ".join(_factor_name(name, ratio) for name in f.names)


def _factor_name(name: str, ratio: float) -> str:
    if name in CONSTANTS:
        return CONSTANTS[name]
    if name in AVERAGED:
        return f"{name} = 1/{round(1 / ratio)} of the truth: {AVERAGED[name]}"
    if name.startswith("1/"):
        return f"the truth divided by {round(1 / ratio)} ({MULTIPLES[name[2:]]})"
    return f"{round(ratio)} ({MULTIPLES[name]}) times the truth"


def _precision(f: Finding, failing: set[str]) -> str:
    (fmt,) = f.names
    if "values" in f.evidence:
        return (
            f"right only to {fmt} precision: its values are {fmt} numbers "
            f"({f.evidence['bits']} significant bits), so something stores or computes it in {fmt}"
        )
    return (
        f"right only to {fmt} precision (about {f.evidence['bits']:.0f} significant bits, "
        f"errors on most elements): something computes in {fmt}"
    )


def _samples_of(indices: list[int]) -> str:
    return f"sample{'s' if len(indices) > 1 else ''} {ranges(indices)}"


def _samples(f: Finding, failing: set[str]) -> str:
    e = f.evidence
    if "right" in e:
        bad, how = e["wrong"], "all zeros (never computed)" if e["zeros"] else "wrong"
        text = f"right for {_samples_of(e['right'])} only; {_samples_of(bad)} "
        text += f"{'are' if len(bad) > 1 else 'is'} {how}"
        if e["right"] == [0] and e["zeros"]:
            text += ": the loop over the batch stops after the first sample"
        return text
    if "only" in e:
        (n,) = e["only"]
        return f"has sample {n}'s contribution only" + (
            ": the sum over the batch is missing" if n == 0 else ""
        )
    if "missing" in e:
        return f"is missing the contributions of {_samples_of(e['missing'])}"
    return f"weights the samples' contributions as {e['weights']}, not all 1"


def _flipped(f: Finding, failing: set[str]) -> str:
    if f.tensor != "y" and "y" not in failing:
        return (
            f"matches the {f.tensor} of a layer with the kernel flipped, while y is right: the "
            "backward flips W (the forward's cross-correlation, W[o, c, k] meeting "
            "x[t·stride + k], has W the same way round in its gradients)"
        )
    return (
        "matches a convolution with the kernel flipped: torch's Conv1d is a "
        "cross-correlation (W[o, c, k] meets x[t·stride + k], not x[t·stride + K−1−k])"
    )


def _padding_mode(f: Finding, failing: set[str]) -> str:
    modes = [m + (" (the edge sample repeated)" if m == "symmetric" else "") for m in f.names]
    return (
        f"matches a layer that pads the input in {' or '.join(modes)} mode, not "
        f"{f.evidence['instead_of']}"
    )


def _places(f: Finding, failing: set[str]) -> str:
    if "edges" in f.names:
        return (
            f"errors only near the edges (within {f.evidence['within']} positions of either "
            "end): look at the padding, or at the first and last windows"
        )
    parts = []
    for label in f.names:
        where = f.evidence[label]  # {"wrong": "0-2, 5", "of": 13}
        plural = "s" if any(c in where["wrong"] for c in ",-") else ""
        parts.append(f"{label}{plural} {where['wrong']} of {where['of']}")
    return f"wrong only in {' and '.join(parts)}"


def _unexplained(f: Finding, failing: set[str]) -> str:
    e = f.evidence
    text = (
        f"{e['wrong']:.0%} of the elements are off, and no explanation leaves rounding only "
        "(measured: a constant factor, a narrower precision, missing samples, the likely bugs"
    )
    if "ratio" in e:
        text += f"; the best factor, {e['ratio']:.6g}, leaves {e['ratio_fit']:.3g} allowances"
    return text + ")"


WORDS: dict[Kind, Callable[[Finding, set[str]], str]] = {
    Kind.SHAPE: _shape,
    Kind.NONFINITE: _nonfinite,
    Kind.DTYPE: _dtype,
    Kind.ROUNDING: _rounding,
    Kind.FACTOR: _factor,
    Kind.PRECISION: _precision,
    Kind.SAMPLES: _samples,
    Kind.FLIPPED_KERNEL: _flipped,
    Kind.PADDING_MODE: _padding_mode,
    Kind.PLACES: _places,
    Kind.UNEXPLAINED: _unexplained,
}


def consistency_line(found: list[Finding], failing: set[str]) -> list[str]:
    """The consistency check in words, with what it measured: which gradients agree with
    central differences of the layer's own forward, and to what share of the terms' scale."""
    if not found:
        return []
    agree = [f for f in found if f.names == ("agrees",)]
    disagree = [f for f in found if f.names != ("agrees",)]
    parts = []
    if agree:
        worst = max(f.evidence["disagreement"] for f in agree)
        resolution = max(f.evidence["resolution"] for f in agree)
        parts.append(
            f"{_names(agree)} agree{'s' if len(agree) == 1 else ''} with central differences "
            f"of your forward to {worst:.1g} of the terms' scale (resolution {resolution:.1g})"
        )
    if disagree:
        off = ", ".join(f"{f.tensor} by {f.evidence['disagreement']:.2g}" for f in disagree)
        parts.append(f"{off} of the terms' scale: not the gradient of your forward")
    text = "consistency: " + "; ".join(parts)
    if "y" in failing and not disagree:
        text += "; your forward is wrong: fix the forward first"
    elif "y" not in failing and disagree:
        text += " (your forward is right): the bug is in backward"
    return [text]


def _names(found: list[Finding]) -> str:
    return " and ".join(f.tensor for f in found)


def _torch_drift(f: Finding) -> str:
    gpu = (
        ", e.g. TF32 on a GPU, or cuDNN's FFT or Winograd algorithms, which --rule normwise accepts"
    )
    why = "its own rounding" + (gpu if f.evidence.get("gpu") else "")
    return (
        f"torch itself is outside the bound on {', '.join(f.names)} ({why}): the reference "
        "drifts, not necessarily the layer"
    )


def traceback_lines(frames: list[dict], shown: int = TRACEBACK_FRAMES) -> list[str]:
    """The layer's last `shown` frames as Python prints them (all are in the JSON)."""
    if not frames:
        return []
    lines = ["  Traceback of your code (innermost last):"]
    for frame in frames[-shown:]:
        lines.append(f'    File "{frame["file"]}", line {frame["line"]}, in {frame["function"]}')
        lines += [f"      {frame['code']}"] if frame.get("code") else []
    return lines
