"""conv1d-check: check a hand-written 1-D convolution against torch.nn.Conv1d."""

__version__ = "0.1.0"

from .api import assert_matches_torch, cases, check
from .check.case import Case
from .check.result import CaseResult, Status, Verdict
from .check.torch_side import DeviceUnavailable
from .nn import Conv1D, ConvSpec, InvalidParameter

__all__ = [
    "Case",
    "CaseResult",
    "Conv1D",
    "ConvSpec",
    "DeviceUnavailable",
    "InvalidParameter",
    "Status",
    "Verdict",
    "__version__",
    "assert_matches_torch",
    "cases",
    "check",
]
