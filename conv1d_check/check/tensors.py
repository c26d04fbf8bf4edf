"""The seeded tensors of a case: what the layer under test, torch and the oracle all get."""

from __future__ import annotations

import numpy as np

from ..nn.spec import InvalidParameter
from .case import Case
from .inputs import ARRAYS, given_tensors, load

Tensors = dict[str, np.ndarray]


def make_tensors(case: Case, given: dict[str, np.ndarray] | None = None) -> Tensors:
    """x, W, b (with bias) and the upstream gradient dy, drawn from one Generator seeded by `seed`.

    In this order: x ~ N(0, 1) of shape (N, C_in, L); W and b ~ U(−k, k) with
    k = 1/sqrt(C_in/G · K), torch's own initialisation (so the bias is nonzero);
    dy ~ N(0, 1) of shape (N, C_out, L_out). Then all are rounded to `dtype` once.

    Every one has mean zero, which the probable bound relies on: the rounding errors of a sum
    of zero-mean terms grow like √n (docs/design.md §3).

    The user's own tensors replace the drawn ones: `given` arrays, or case.inputs' .npz file
    (check/inputs.py; InvalidParameter when they do not fit the case).
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
    tensors = {name: t.astype(case.dtype) for name, t in tensors.items()}
    if given is None and case.inputs is not None:
        if case.inputs == ARRAYS:
            raise InvalidParameter("inputs", "the arrays given to the API are not kept: pass them")
        given = load(case.inputs)
    return tensors | given_tensors(case, given or {})
