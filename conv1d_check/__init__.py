"""conv1d-check: check a hand-written 1-D convolution against torch.nn.Conv1d."""

__version__ = "0.1.0"

from .case import Case
from .layer import Conv1D
from .spec import ConvSpec, InvalidParameter
from .verify import CaseResult, assert_matches_torch, check

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
