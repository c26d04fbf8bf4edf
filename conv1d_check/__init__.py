"""conv1d-check: check a hand-written 1-D convolution against torch.nn.Conv1d.

The names below are imported when first used (PEP 562), so that a process that needs one part
(the layer's worker, `--version`) does not pay for the others."""

import importlib

__version__ = "0.1.0"

_WHERE = {
    "assert_matches_torch": ".api",
    "cases": ".api",
    "check": ".api",
    "Case": ".check.case",
    "CaseResult": ".check.result",
    "Status": ".check.result",
    "Verdict": ".check.result",
    "DeviceUnavailable": ".check.torch_side",
    "Conv1D": ".nn.layer",
    "ConvSpec": ".nn.spec",
    "InvalidParameter": ".nn.spec",
}

__all__ = sorted([*_WHERE, "__version__"])

# The subpackage conv1d_check.check (cheap: a docstring) is loaded now, so that importing it
# later never binds the name `check`, which is the API's function.
importlib.import_module(".check", __name__)
del check  # noqa: F821  (bound by the import above)


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value  # found once
    return value


def __dir__() -> list[str]:
    return __all__
