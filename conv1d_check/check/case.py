"""A Case: every parameter of one check, validated once, with a stable id.

The defaults are the notebook's case: N=3, C_in=8, C_out=12, L=20, K=3,
stride 2, seed 10, float64.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from ..nn.spec import PADDING_MODES, ConvSpec, InvalidParameter, _padding, as_int
from ..usercode.conventions import CONVENTIONS
from ..usercode.discover import check_target
from ..usercode.protocol import BUILTIN

DTYPES = ("float64", "float32")
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Case:
    """One check: the layer's parameters, the input's shape, and how to run and judge it."""

    in_channels: int = 8
    out_channels: int = 12
    kernel_size: int = 3
    stride: int = 2
    padding: int | str = 0
    dilation: int = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    batch: int = 3
    length: int = 20
    dtype: str = "float64"
    seed: int = 10
    device: str = "cpu"
    tf32: bool = False
    atol: float | None = None
    rtol: float | None = None
    impl: str = BUILTIN
    convention: str | None = None
    timeout: float = 60.0

    @cached_property
    def spec(self) -> ConvSpec:
        """The layer's hyperparameters, validated by torch's rules."""
        return ConvSpec(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            self.bias,
            self.padding_mode,
        )

    @cached_property
    def output_length(self) -> int:
        return self.spec.output_length(self.length)

    def validate(self) -> Case:
        """Raise InvalidParameter for the first broken rule; return self for chaining."""
        try:
            self.spec  # noqa: B018 (building the spec validates it)
        except InvalidParameter as error:
            if error.param == "padding" and self.padding == "same":
                raise InvalidParameter(
                    "padding",
                    f"{error} (stride defaults to the notebook's 2: "
                    "give -s 1, or stride = 1 in a config)",
                ) from None
            raise
        as_int("batch", self.batch, minimum=0)
        as_int("seed", self.seed, minimum=0)
        self.output_length  # noqa: B018 (checks the length rules)
        _one_of("dtype", self.dtype, DTYPES)
        _one_of("device", self.device, DEVICES)
        if (self.atol is None) != (self.rtol is None):
            given, missing = ("atol", "rtol") if self.rtol is None else ("rtol", "atol")
            raise InvalidParameter(missing, f"{given} needs {missing}: give both or neither")
        for name in ("atol", "rtol"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise InvalidParameter(name, f"{name}={value}: must be non-negative")
        if not self.timeout > 0:
            raise InvalidParameter("timeout", f"timeout={self.timeout}: must be positive")
        if self.convention is not None:
            _one_of("convention", self.convention, tuple(CONVENTIONS))
        check_target(self.impl)
        return self

    @property
    def id(self) -> str:
        """A stable name built from the parameters.

        For example in8-out12-k3-s2-p0-d1-g1-bias-zeros-n3-l20-float64-seed10.

        How the case runs (impl, convention, timeout) is not part of it; the device,
        TF32 and an explicit tolerance are, when they differ from the defaults.
        """
        parts = [
            f"in{self.in_channels}",
            f"out{self.out_channels}",
            f"k{self.kernel_size}",
            f"s{self.stride}",
            f"p{self.padding}",
            f"d{self.dilation}",
            f"g{self.groups}",
            "bias" if self.bias else "nobias",
            self.padding_mode,
            f"n{self.batch}",
            f"l{self.length}",
            self.dtype,
            f"seed{self.seed}",
        ]
        if self.device != "cpu":
            parts.append(self.device)
        if self.tf32:
            parts.append("tf32")
        if self.atol is not None:
            parts.append(f"atol{self.atol:g}-rtol{self.rtol:g}")
        return "-".join(parts)

    def params(self) -> dict[str, Any]:
        """The case's fields as plain values, for JSON."""
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = tuple(f.name for f in fields(Case))
POSITIVE = ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups", "length")
CHOICES = {"padding_mode": PADDING_MODES, "dtype": DTYPES, "device": DEVICES}


def check_field(name: str, value: object) -> None:
    """Raise InvalidParameter if `value` breaks a rule of field `name` on its own.

    Only the rules that involve no other field: a config file's values are
    checked one by one with it before any combination is made.
    """
    if name in POSITIVE or name in ("batch", "seed"):
        as_int(name, value, minimum=1 if name in POSITIVE else 0)
    elif name == "padding":
        _padding(value)
    elif name in CHOICES:
        _one_of(name, value, CHOICES[name])
    elif name == "convention":
        if value is not None:
            _one_of(name, value, tuple(CONVENTIONS))
    elif name in ("bias", "tf32"):
        if not isinstance(value, bool):
            raise InvalidParameter(name, f"{name}={value!r}: must be true or false")
    elif name in ("atol", "rtol", "timeout"):
        if value is None and name != "timeout":
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParameter(name, f"{name}={value!r}: must be a number")
        if not (value > 0 if name == "timeout" else value >= 0):
            rule = "positive" if name == "timeout" else "non-negative"
            raise InvalidParameter(name, f"{name}={value}: must be {rule}")
    elif name == "impl":
        if not isinstance(value, str):
            raise InvalidParameter(name, f"impl={value!r}: must be a string")
        check_target(value)
    else:
        raise InvalidParameter(name, f"{name}: no such parameter")


def _one_of(param: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidParameter(param, f"{param}={value!r}: must be one of {', '.join(allowed)}")
