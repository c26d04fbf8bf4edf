"""The hyperparameters of a 1-D convolution and torch.nn.Conv1d's rules for them.

Conv1d's own rules live here and only here: the numpy layer, the reference loops
and check.case.Case all go through `ConvSpec` (a Case adds the rules of what is
not Conv1d's: the input, the dtype, the pass rule). Every broken rule raises
`InvalidParameter` (a ValueError) whose message names the parameter, its value
and the rule; a value of the wrong type raises `WrongType`, which is also a
TypeError.
"""

from __future__ import annotations

import reprlib
from dataclasses import astuple, dataclass
from numbers import Integral

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("valid", "same")


class InvalidParameter(ValueError):
    """A parameter breaks one of Conv1d's rules; `param` names it."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


class WrongType(InvalidParameter, TypeError):
    """A parameter's value is of the wrong type (a TypeError as well as an InvalidParameter)."""


def as_int(param: str, value: object, minimum: int) -> int:
    """`value` as a plain int >= minimum; a 1-tuple such as torch's (3,) is unwrapped."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise WrongType(param, f"{param}={reprlib.repr(value)}: must be an integer")
    if value < minimum:
        rule = {0: "non-negative", 1: "positive"}.get(minimum, f"at least {minimum}")
        raise InvalidParameter(param, f"{param}={value}: must be {rule}")
    return int(value)


def padding_value(value: object) -> int | str:
    """padding as an int >= 0, 'valid' or 'same'."""
    if isinstance(value, str):
        if value not in PADDING_STRINGS:
            raise InvalidParameter(
                "padding",
                f"padding={reprlib.repr(value)}: must be a non-negative integer or one of "
                f"{', '.join(PADDING_STRINGS)}",
            )
        return value
    return as_int("padding", value, minimum=0)


@dataclass(frozen=True)
class ConvSpec:
    """What torch.nn.Conv1d is constructed with, validated and normalised to plain ints."""

    in_channels: int
    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int | str = 0
    dilation: int = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"

    def arguments(self) -> tuple:
        """The positional arguments of torch.nn.Conv1d, and of our Conv1D, in their order."""
        return astuple(self)

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"):
            object.__setattr__(self, name, as_int(name, getattr(self, name), minimum=1))
        object.__setattr__(self, "padding", padding_value(self.padding))
        if not isinstance(self.bias, bool):
            raise WrongType("bias", f"bias={reprlib.repr(self.bias)}: must be true or false")
        if not isinstance(self.padding_mode, str):
            raise WrongType(
                "padding_mode", f"padding_mode={reprlib.repr(self.padding_mode)}: must be text"
            )
        if self.padding_mode not in PADDING_MODES:
            raise InvalidParameter(
                "padding_mode",
                f"padding_mode={reprlib.repr(self.padding_mode)}: "
                f"must be one of {', '.join(PADDING_MODES)}",
            )
        for name in ("in_channels", "out_channels"):
            if getattr(self, name) % self.groups:
                raise InvalidParameter(
                    "groups",
                    f"groups={self.groups}: must divide {name}={getattr(self, name)}",
                )
        if self.padding == "same" and self.stride != 1:
            raise InvalidParameter(
                "padding",
                f"padding='same' needs stride 1 (got stride={self.stride}): "
                "torch does not support 'same' for strided convolutions",
            )

    @property
    def span(self) -> int:
        """Input samples one output position looks at: dilation·(kernel_size − 1) + 1."""
        return self.dilation * (self.kernel_size - 1) + 1

    @property
    def pads(self) -> tuple[int, int]:
        """(left, right) padding; 'same' splits an odd total as torch does, extra on the right."""
        if self.padding == "valid":
            return 0, 0
        if self.padding == "same":
            total = self.span - 1
            return total // 2, total - total // 2
        return self.padding, self.padding

    def output_length(self, length: int) -> int:
        """L_out = (L + left + right − span) // stride + 1, after checking torch's rules on L."""
        length = as_int("length", length, minimum=1)
        left, right = self.pads
        if self.padding_mode == "reflect" and max(left, right) >= length:
            raise InvalidParameter(
                "padding",
                f"padding={max(left, right)}: reflect padding must be smaller than the "
                f"input length {length}",
            )
        if self.padding_mode == "circular" and max(left, right) > length:
            raise InvalidParameter(
                "padding",
                f"padding={max(left, right)}: circular padding must not exceed the input "
                f"length {length} (it would wrap around more than once)",
            )
        padded = length + left + right
        if self.span > padded:
            raise InvalidParameter(
                "kernel_size",
                f"kernel_size={self.kernel_size}: the kernel spans {self.span} samples "
                f"(dilation {self.dilation}), more than the padded input's {padded} "
                f"(length {length} + padding {left}+{right})",
            )
        return (padded - self.span) // self.stride + 1

    @property
    def in_per_group(self) -> int:
        return self.in_channels // self.groups

    @property
    def out_per_group(self) -> int:
        return self.out_channels // self.groups

    @property
    def weight_shape(self) -> tuple[int, int, int]:
        """W is (C_out, C_in / groups, K)."""
        return self.out_channels, self.in_per_group, self.kernel_size
