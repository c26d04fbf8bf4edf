"""A numpy Conv1D with torch.nn.Conv1d's semantics: the layer, its computation paths, padding
and its adjoint, the reference loops, and the hyperparameters with torch's rules.

It imports numpy and the standard library only, nothing else of conv1d_check.
"""

from .layer import Conv1D
from .spec import ConvSpec, InvalidParameter

__all__ = ["Conv1D", "ConvSpec", "InvalidParameter"]
