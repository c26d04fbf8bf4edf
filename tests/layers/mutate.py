"""Break a correct layer on purpose, in any calling convention.

`mutant(Base, bug)` is a subclass of a correct layer class whose forward or
backward results are damaged by one bug; `mutant_functions(module, bug)` does
the same for a functional module's forward and backward. The gradients are
damaged in place, wherever the layer keeps them (returned, or as attributes such
as dW, dLdW, grad_weights or weight.grad), so the layer's own conventions stay
as they were. Used by tests/test_impls.py to check each bug in each convention.
"""
import functools

import numpy as np

GRADIENT_NAMES = ("dW", "db", "dLdW", "dLdb", "grad_weights", "grad_biases")
PARAMETER_NAMES = ("weight", "bias")


def _short(y):
    return y[..., :-1]


def _nan_at_the_end(y):
    y = y.copy()
    y[..., -1] = np.nan
    return y


def _first_sample_only(a, n):
    a[1:] = 0


def _float32(a, n):
    a[...] = a.astype(np.float32)


def _float16(y):
    return y.astype(np.float16).astype(y.dtype)


def _last_sample_dropped(a, n):
    a[-1] = 0


def _times_kernel_size(a, n):
    a *= a.shape[2]


# bug: (the tensors it damages, how). Output bugs return a new y; gradient bugs
# work in place and get the batch size n.
BUGS = {
    "never_computed": ("dX", lambda a, n: a.fill(0)),
    "sign_flipped": ("dX", lambda a, n: np.negative(a, out=a)),
    "batch_mean": ("dW db", lambda a, n: np.divide(a, n, out=a)),
    "float32": ("dW", _float32),
    "first_sample_only": ("dX", _first_sample_only),
    "short_output": ("y", _short),
    "nan_output": ("y", _nan_at_the_end),
    "float16_output": ("y", _float16),
    "last_sample_dropped": ("dX", _last_sample_dropped),
    "times_kernel_size": ("dW", _times_kernel_size),
}


def _damage_gradients(bug, gradients):
    """Apply a gradient bug to {"dX": array, "dW": array, "db": array}, in place."""
    names, damage = BUGS[bug]
    if "y" in names:
        return
    n = gradients["dX"].shape[0]
    for name in names.split():
        if gradients.get(name) is not None:
            damage(gradients[name], n)


def _damage_output(bug, y):
    names, damage = BUGS[bug]
    return damage(y) if names == "y" else y


def mutant(base, bug):
    """A subclass of the layer class `base` with `bug`."""

    def forward(self, x):
        self._mutant_input_shape = x.shape
        return _damage_output(bug, getattr(super(cls, self), entry)(x))

    def backward(self, delta):
        returned = super(cls, self).backward(delta)
        _damage_gradients(bug, self._mutant_gradients(returned))
        return returned

    def _mutant_gradients(self, returned):
        """dX, dW and db by their shapes, from what backward returned and from attributes."""
        arrays = list(returned) if isinstance(returned, (tuple, list)) else [returned]
        for holder in (self, getattr(self, "conv1d_stride1", None)):
            arrays += [getattr(holder, name, None) for name in GRADIENT_NAMES]
            arrays += [getattr(getattr(holder, name, None), "grad", None) for name in PARAMETER_NAMES]
        found = {}
        for a in (a for a in arrays if isinstance(a, np.ndarray)):
            role = "dX" if a.shape == self._mutant_input_shape else {3: "dW", 1: "db"}[a.ndim]
            found.setdefault(role, a)
        return found

    entry = "forward" if hasattr(base, "forward") else "__call__"
    methods = {entry: forward, "backward": backward, "_mutant_gradients": _mutant_gradients}
    cls = type(base.__name__, (base,), methods)
    return cls


def mutant_functions(module, bug):
    """A functional module's forward and backward, with `bug`."""

    @functools.wraps(module.forward)
    def forward(*args, **kwargs):
        y, cache = module.forward(*args, **kwargs)
        return _damage_output(bug, y), cache

    @functools.wraps(module.backward)
    def backward(dout, cache):
        dx, dw, db = module.backward(dout, cache)
        _damage_gradients(bug, {"dX": dx, "dW": dw, "db": db})
        return dx, dw, db

    return forward, backward
