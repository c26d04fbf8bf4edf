"""Which samples of the batch a failing tensor has right, measured rather than guessed.

y and dX hold one block per sample: the samples with a mismatch are read off directly. dW and
db sum a contribution from every sample: the layer's tensor is set against the truth without
one sample, against one sample alone, and (small batches) against the least-squares
combination of the samples' contributions; a fit with weights 0 and 1 names the samples that
are in it and those missing.
"""

from __future__ import annotations

import numpy as np

from ...nn.padding import pad
from .evidence import Evidence
from .finding import Finding, Kind
from .hypotheses import windows

# The least-squares fit of every sample's weight: for batches this small (a unique fit needs
# more elements than samples, and it costs a solve).
MAX_SAMPLES = 16
# Per-sample contributions are computed for at most this many numbers (N times dW's size).
MAX_PARTS = 4_000_000
# A fitted weight counts as 0 or 1 when it is this close to it: a sample half in is no sample.
WEIGHT_TOLERANCE = 1e-6


def ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2, 5'."""
    parts, start = [], None
    for i, index in enumerate(indices):
        if start is None:
            start = index
        if i + 1 == len(indices) or indices[i + 1] != index + 1:
            parts.append(f"{start}" if start == index else f"{start}-{index}")
            start = None
    return ", ".join(parts)


def per_sample_clue(evidence: Evidence, name: str) -> list[Finding]:
    """y, dX: right for some samples and wrong (or all zeros) for the others."""
    if evidence.case.batch < 2 or name not in ("y", "dX"):
        return []
    wrong = evidence.wrong(name).any(axis=(1, 2))
    right = [int(i) for i in np.flatnonzero(~wrong)]
    bad = [int(i) for i in np.flatnonzero(wrong)]
    if not right or not bad:
        return []
    zeros = not evidence.outputs[name][bad].any()
    seen = {"right": right, "wrong": bad, "zeros": zeros}
    return [Finding(name, Kind.SAMPLES, ("per sample",), seen)]


def contributions_clue(evidence: Evidence, name: str) -> list[Finding]:
    """dW, db: the sum of some samples' contributions, not all."""
    parts = _parts(evidence, name) if evidence.case.batch > 1 else None
    if parts is None:
        return []
    actual = evidence.outputs[name].astype(np.float64).ravel()
    shape = evidence.truth[name].shape
    best, fit = None, np.inf
    for weights in _candidates(parts, actual):
        candidate = (parts @ weights).reshape(shape)
        if evidence.differs(name, candidate) and (f := evidence.fit(name, candidate)) < fit:
            best, fit = weights, f
    if best is None:
        return []
    inside = [int(n) for n in np.flatnonzero(best == 1)]
    missing = [int(n) for n in np.flatnonzero(best == 0)]
    if len(inside) + len(missing) < best.size:
        seen = {"weights": best.astype(int).tolist()}
    else:  # with two samples, "sample 0 only" and "sample 1 missing" are one bug
        seen = {"only": inside} if len(inside) == 1 else {"missing": missing}
    return [Finding(name, Kind.SAMPLES, ("contributions",), seen, fit)]


def _parts(evidence: Evidence, name: str) -> np.ndarray | None:
    """Each sample's contribution to dW or db in float64: (elements, N); None if too many."""
    inputs, spec = evidence.inputs64, evidence.case.spec
    dy = inputs["dy"]
    n, l_out = dy.shape[0], dy.shape[2]
    if name == "db":
        return dy.sum(axis=2).T
    if name != "dW" or n * inputs["W"].size > MAX_PARTS:
        return None
    xp = pad(inputs["x"], *spec.pads, spec.padding_mode)
    dy_g = dy.reshape(n, spec.groups, spec.out_per_group, l_out)
    dW = np.einsum("ngot,ngctk->ngock", dy_g, windows(spec, xp, l_out, spec.stride), optimize=True)
    return dW.reshape(n, -1).T


def _candidates(parts: np.ndarray, actual: np.ndarray) -> list[np.ndarray]:
    """Weights of the samples' contributions worth trying: the sample alone nearest the layer's
    tensor, the sample left out nearest it, then (small batches) the least-squares fit rounded,
    when it is unique and near whole numbers."""
    batch = parts.shape[1]
    scale = float(np.max(np.abs(parts), initial=0.0)) or 1.0  # no overflow near 1e+100
    parts, actual = parts / scale, actual / scale  # the weights do not change with the scale
    norms = np.einsum("mn,mn->n", parts, parts)
    alone = np.argmin(norms - 2 * actual @ parts)  # ‖actual − part_n‖², less ‖actual‖²
    missing = np.argmin(norms - 2 * (parts.sum(axis=1) - actual) @ parts)
    only, but = np.zeros(batch), np.ones(batch)
    only[alone], but[missing] = 1, 0
    found = [only, but]
    if batch <= MAX_SAMPLES:
        weights, _, rank, _ = np.linalg.lstsq(parts, actual, rcond=None)
        whole = np.round(weights)
        if rank == batch and np.allclose(weights, whole, rtol=0, atol=WEIGHT_TOLERANCE):
            found.append(whole)
    return [w for w in found if not np.all(w == w[0])]  # equal weights: a factor, not samples
