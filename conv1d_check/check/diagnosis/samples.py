"""Which samples of the batch a failing tensor has right, measured rather than guessed.

y and dX hold one block per sample: the samples with a mismatch are read off directly. dW and
db sum a contribution from every sample: the layer's tensor is fitted as a combination of the
samples' contributions (each computed by torch in float64 from that sample alone), and a fit
with weights 0 and 1 names the samples that are in it and those missing.
"""

from __future__ import annotations

import numpy as np

from .. import torch_side
from .evidence import Evidence

MAX_SAMPLES = 16  # dW and db: one torch call per sample, so only for batches this small
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


def _samples(indices: list[int]) -> str:
    return f"sample{'s' if len(indices) > 1 else ''} {ranges(indices)}"


def sample_clue(evidence: Evidence, name: str) -> list[str]:
    """Right for some samples and not others (y, dX); or made of some samples' contributions
    only (dW, db)."""
    if evidence.case.batch < 2:
        return []
    if name in ("y", "dX"):
        return _per_sample(evidence, name)
    return _contributions(evidence, name)


def _per_sample(evidence: Evidence, name: str) -> list[str]:
    wrong = evidence.wrong(name).any(axis=(1, 2))
    right = [int(i) for i in np.flatnonzero(~wrong)]
    bad = [int(i) for i in np.flatnonzero(wrong)]
    if not right or not bad:
        return []
    zeros = not evidence.outputs[name][bad].any()
    how = "all zeros (never computed)" if zeros else "wrong"
    text = (
        f"right for {_samples(right)} only; {_samples(bad)} {'are' if len(bad) > 1 else 'is'} {how}"
    )
    if right == [0]:
        text += ": the loop over the batch stops after the first sample"
    return [text]


def _contributions(evidence: Evidence, name: str) -> list[str]:
    batch = evidence.case.batch
    if batch > MAX_SAMPLES:
        return []
    inputs = evidence.inputs64
    parts = np.stack(
        [
            torch_side.conv1d(
                evidence.case.spec,
                inputs["x"][n : n + 1],
                inputs["W"],
                inputs.get("b"),
                inputs["dy"][n : n + 1],
            )[name].ravel()
            for n in range(batch)
        ],
        axis=1,
    )
    shape = evidence.truth[name].shape
    for weights in _candidates(parts, evidence.outputs[name].astype(np.float64).ravel()):
        if evidence.explains(name, (parts @ weights).reshape(shape)):
            return [_describe(weights)]
    return []


def _candidates(parts: np.ndarray, actual: np.ndarray) -> list[np.ndarray]:
    """Weights of the samples' contributions worth trying: each sample alone, each sample left
    out, then the least-squares fit rounded, when it is unique and near whole numbers (with
    fewer elements than samples, only the first two kinds can be told apart)."""
    batch = parts.shape[1]
    eye = np.eye(batch)
    found = [*eye, *(1 - eye)]
    weights, _, rank, _ = np.linalg.lstsq(parts, actual, rcond=None)
    whole = np.round(weights)
    if rank == batch and np.allclose(weights, whole, rtol=0, atol=WEIGHT_TOLERANCE):
        found.append(whole)
    return [w for w in found if not np.all(w == 1)]


def _describe(weights: np.ndarray) -> str:
    inside = [int(n) for n in np.flatnonzero(weights == 1)]
    missing = [int(n) for n in np.flatnonzero(weights == 0)]
    if len(inside) + len(missing) < weights.size:
        return f"weights the samples' contributions as {weights.astype(int).tolist()}, not all 1"
    if len(inside) == 1:
        text = f"has sample {inside[0]}'s contribution only"
        return text + (": the sum over the batch is missing" if inside == [0] else "")
    return f"is missing the contributions of {_samples(missing)}"
