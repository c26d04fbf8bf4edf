"""The seeded tensors of a case: what the layer under test, torch and the oracle all get."""

from __future__ import annotations

import numpy as np

from .case import Case

Tensors = dict[str, np.ndarray]


def make_tensors(case: Case) -> Tensors:
    """x, W, b (with bias) and the upstream gradient dy, drawn from one Generator seeded by `seed`.

    In this order: x ~ N(0, 1) of shape (N, C_in, L); W and b ~ U(−k, k) with
    k = 1/sqrt(C_in/G · K), torch's own initialisation (so the bias is nonzero);
    dy ~ N(0, 1) of shape (N, C_out, L_out). Then all are rounded to `dtype` once.

    Every one has mean zero, which the pass rule relies on: the rounding errors of a sum of
    zero-mean terms grow like √n (docs/design.md §3).
    """
    spec, rng = case.spec, np.random.default_rng(case.seed)
    bound = 1.0 / np.sqrt(spec.in_per_group * spec.kernel_size)
    tensors = {
        "x": rng.standard_normal((case.batch, spec.in_channels, case.length)),
        "W": rng.uniform(-bound, bound, spec.weight_shape),
    }
    if spec.bias:
        tensors["b"] = rng.uniform(-bound, bound, spec.out_channels)
    tensors["dy"] = rng.standard_normal((case.batch, spec.out_channels, case.output_length))
    return {name: t.astype(case.dtype) for name, t in tensors.items()}
