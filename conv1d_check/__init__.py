"""conv1d-check: check a hand-written 1-D convolution against torch.nn.Conv1d."""

__version__ = "0.1.0"

from .check.case import Case
from .check.verify import CaseResult, assert_matches_torch, check
from .nn.layer import Conv1D
from .nn.spec import ConvSpec, InvalidParameter

__all__ = [
    "Case",
    "CaseResult",
    "Conv1D",
    "ConvSpec",
    "InvalidParameter",
    "__version__",
    "assert_matches_torch",
    "check",
]
