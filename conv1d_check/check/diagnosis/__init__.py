"""What a failure looks like: the diagnosis of each failing tensor, worked out from the numbers.

Every clue is a measurement, and a `Finding`: the failing tensor is compared with the float64
truth, with the truths of likely bugs (`hypotheses`), with the samples' contributions
(`samples`), with what rounding in a narrower precision gives (`precision`), and its mismatches
are located (`places`). Competing explanations are compared, not listed: each is fitted, and
the ones that leave rounding only (their fit is the best, or within a factor of 2 of it, or
at most 1) are named; a weaker clue is said only when none of them fits.
"""

from __future__ import annotations

import numpy as np

from .clues import dtype_clue, factor_clue, nonfinite_clue, normwise_clue, shape_clue, zeros_clue
from .evidence import SLACK, Evidence
from .explain import explain
from .finding import Finding, Kind
from .hypotheses import Alternative, alternatives
from .places import edge_clue, strips, subset_clue
from .precision import computed_clue, stored_clue
from .samples import contributions_clue, per_sample_clue
from .transform import transform_rounding_clue
from .words import lines

__all__ = ["Evidence", "Finding", "Kind", "diagnose", "explain", "lines", "strips"]

# Explanations within this factor of the best fit fit equally well: both are said.
EQUALLY = 2.0


def diagnose(evidence: Evidence, failed: list[str]) -> list[Finding]:
    """The findings on each failing tensor, in the order of `failed`."""
    table: list[Alternative] = []
    findings = []
    for name in failed:
        actual, expected = evidence.outputs.get(name), evidence.truth[name]
        if actual is None:
            continue
        if actual.shape != expected.shape:
            findings += shape_clue(evidence, name, actual.shape)
            continue
        if not table:
            table.extend(alternatives(evidence, set(failed)))  # once per case
        findings += _tensor(evidence, name, table)
    return findings


def _tensor(evidence: Evidence, name: str, table: list[Alternative]) -> list[Finding]:
    """One failing tensor of the right shape: the first decisive clue, else the explanations
    that fit best, else where it is wrong, else what was measured."""
    for clue in (nonfinite_clue, zeros_clue, dtype_clue, transform_rounding_clue, normwise_clue):
        if found := clue(evidence, name):
            return found
    factor = factor_clue(evidence, name)
    fits = [f for f in factor if f.names] + _likely(evidence, name, table)
    fits += contributions_clue(evidence, name)
    # an explanation leaves rounding only, and much less than the error it explains
    bound = min(SLACK, evidence.fit(name, evidence.truth[name]) / EQUALLY)
    named = _best([f for f in fits if f.fit is not None and f.fit <= bound])
    stored = stored_clue(evidence, name)  # decisive whatever else fits
    if named or stored:
        return stored + named
    # errors proportional to the truth are a factor, not a precision's (uncorrelated) rounding
    if unnamed := [f for f in factor if not f.names and f.fit is not None and f.fit <= bound]:
        return unnamed
    for clue in (computed_clue, per_sample_clue, edge_clue, subset_clue):
        if found := clue(evidence, name):
            return found
    return [_unexplained(evidence, name, factor)]


def _likely(evidence: Evidence, name: str, table: list[Alternative]) -> list[Finding]:
    """The likely bugs that change tensor `name`, each fitted; one finding a kind, naming
    every variant that fits as well as its best (padding 1 in replicate and symmetric mode
    is one padding)."""
    fitted: dict[Kind, list[tuple[float, tuple[str, ...]]]] = {}
    for a in table:
        candidate = a.tensors.get(name)
        if candidate is not None and evidence.differs(name, candidate):
            fit = evidence.fit(name, candidate, (a.abs_sums or {}).get(name))
            fitted.setdefault(a.kind, []).append((fit, a.names))
    found = []
    for kind, fits in fitted.items():
        best = min(fit for fit, _ in fits)
        names = [n for fit, names in fits if fit <= max(EQUALLY * best, 1.0) for n in names]
        seen = {"instead_of": evidence.case.padding_mode} if kind == Kind.PADDING_MODE else {}
        found.append(Finding(name, kind, tuple(dict.fromkeys(names)), seen, best))
    return found


def _best(fits: list[Finding]) -> list[Finding]:
    """The explanations that fit as well as the best one (or leave rounding only)."""
    if not fits:
        return []
    best = min(f.fit for f in fits)
    return [f for f in fits if f.fit <= max(EQUALLY * best, 1.0)]


def _unexplained(evidence: Evidence, name: str, factor: list[Finding]) -> Finding:
    """What was measured when nothing fits: the share of elements off, the best factor."""
    seen: dict = {"wrong": float(np.mean(evidence.wrong(name)))}
    if factor:
        seen |= {"ratio": factor[0].evidence["ratio"], "ratio_fit": factor[0].fit}
    return Finding(name, Kind.UNEXPLAINED, (), seen)
