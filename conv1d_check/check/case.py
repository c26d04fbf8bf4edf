"""A Case: every parameter of one check, validated once, with a stable id.

The defaults are the notebook's case: N=3, C_in=8, C_out=12, L=20, K=3, stride 2, seed 10,
float64. Each field has one rule of its own (`RULES`, which a config file's values are checked
with one by one); `Case.validate` applies them all, then the rules that tie fields together.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cached_property
from numbers import Real
from pathlib import Path
from typing import Any

from ..nn.spec import PADDING_MODES, ConvSpec, InvalidParameter, WrongType, as_int, padding_value
from ..usercode.conventions import CONVENTIONS
from ..usercode.discover import check_target
from ..usercode.layout import check_layout
from ..usercode.limits import default_memory_limit, format_bytes
from ..usercode.protocol import BUILTIN
from .normwise import ELEMENTWISE, PASS_RULES
from .tolerance import TENSORS

DTYPES = ("float64", "float32")
DEVICES = ("cpu", "cuda")
# Bytes the tool holds per element of x, y and W while it checks a case: the float64 tensors,
# their rounded copies, three oracle runs (values, absolute values, squares) with torch's own
# buffers, the layer's results and the comparison's arrays. Measured here (peak RSS above the
# tool's 0.3 GB start, float32, built-in layer, 1.7·10⁷ and 2·10⁷ elements): 66 to 70 bytes;
# 128 leaves room for float64's larger temporaries.
BYTES_PER_ELEMENT = 128


@dataclass(frozen=True)
class Case:
    """One check: the layer's parameters, the input's shape, and how to run and judge it.

    memory_limit (GiB) and timeout (seconds, inf for none) bound a user layer's process;
    only (a comma list of y, dX, dW, db) judges those tensors alone; rule is the pass rule,
    elementwise or normwise (check/normwise.py); inputs an .npz file of the user's own x (and
    W, b, dy: check/inputs.py), or "arrays" when the API was given them. layout (`x=NLC,W=KIO`)
    is the axes the layer takes its tensors in (`usercode.layout`; None: found by measurement).
    """

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
    rule: str = ELEMENTWISE
    inputs: str | None = None
    impl: str = BUILTIN
    convention: str | None = None
    timeout: float = 60.0
    memory_limit: float | None = None
    only: str | None = None
    layout: str | None = None
    isolate: bool = True  # False: the layer runs in the tool's process (pdb reaches it)

    @cached_property
    def spec(self) -> ConvSpec:
        """The layer's hyperparameters (the fields the two share), validated by torch's rules."""
        return ConvSpec(**{f.name: getattr(self, f.name) for f in fields(ConvSpec)})

    @cached_property
    def output_length(self) -> int:
        return self.spec.output_length(self.length)

    @property
    def elements(self) -> int:
        """The elements of x (N, C_in, L) and y (N, C_out, L_out): how big the case is."""
        x, y = self.in_channels * self.length, self.out_channels * self.output_length
        return self.batch * (x + y)

    @property
    def judged(self) -> tuple[str, ...]:
        """The tensors whose errors decide the verdict."""
        return TENSORS if self.only is None else tuple(self.only.split(","))

    @property
    def memory_bytes(self) -> int:
        """The memory the layer's process may use: memory_limit GiB, or the default."""
        if self.memory_limit is None:
            return default_memory_limit()
        return int(self.memory_limit * 2**30)

    def memory_needed(self) -> int:
        """Bytes the tool needs to check this case, at about BYTES_PER_ELEMENT per element."""
        spec = self.spec
        # An empty batch counts as one: numpy refuses a shape whose other sizes overflow.
        elements = max(self.batch, 1) * (
            spec.in_channels * self.length + spec.out_channels * self.output_length
        )
        return BYTES_PER_ELEMENT * (elements + math.prod(spec.weight_shape))

    def validate(self) -> Case:
        """Raise InvalidParameter for the first broken rule; return self for chaining."""
        for name in FIELDS:
            RULES[name](name, getattr(self, name))
        try:
            self.spec  # noqa: B018 (building the spec checks Conv1d's rules)
        except InvalidParameter as error:
            if error.param == "padding" and self.padding == "same":
                raise InvalidParameter(
                    "padding",
                    f"{error} (stride defaults to the notebook's 2: "
                    "give -s 1, or stride = 1 in a config)",
                ) from None
            raise
        self.output_length  # noqa: B018 (checks the length rules)
        if self.layout is not None and self.impl == BUILTIN:
            raise InvalidParameter(
                "layout", f"layout={self.layout!r}: for a user's layer (--impl); ours is torch's"
            )
        if (self.atol is None) != (self.rtol is None):
            given, missing = ("atol", "rtol") if self.rtol is None else ("rtol", "atol")
            raise InvalidParameter(missing, f"{given} needs {missing}: give both or neither")
        if self.atol is not None and self.rule != ELEMENTWISE:
            raise InvalidParameter(
                "rule", f"rule={self.rule} and atol/rtol: one pass rule at a time"
            )
        needed, limit = self.memory_needed(), self.memory_bytes
        if needed > limit:
            raise InvalidParameter(
                "memory_limit",
                f"the case needs about {format_bytes(needed)} of memory, more than the "
                f"limit of {format_bytes(limit)}: make it smaller, or raise the limit",
            )
        return self

    @property
    def id(self) -> str:
        """A stable name built from the parameters.

        For example in8-out12-k3-s2-p0-d1-g1-bias-zeros-n3-l20-float64-seed10.

        How the case runs (impl, convention, timeout, memory limit) is not part of it; the
        device, TF32, an explicit tolerance, the pass rule and the judged tensors are, when they
        differ from the defaults, and so are the inputs file and the layer's layout, when given.
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
        if self.rule != ELEMENTWISE:
            parts.append(self.rule)
        if self.only is not None:
            parts.append("only-" + self.only.replace(",", "-"))
        if self.inputs is not None:
            parts.append("inputs-" + Path(self.inputs).stem)
        if self.layout is not None:
            parts.append("layout-" + self.layout.replace("=", "").replace(",", "-"))
        return "-".join(parts)

    def __str__(self) -> str:
        return self.id

    def params(self) -> dict[str, Any]:
        """The case's fields as plain values, for JSON."""
        return {name: getattr(self, name) for name in FIELDS}


FIELDS = tuple(f.name for f in fields(Case))
# The fields that make a case's geometry: Conv1d's own (ConvSpec's) and the input's shape.
SHAPE_FIELDS = (*(f.name for f in fields(ConvSpec)), "batch", "length")

Rule = Callable[[str, Any], None]


def _integer(minimum: int) -> Rule:
    return lambda name, value: as_int(name, value, minimum)


def _choice(options: tuple[str, ...], optional: bool = False) -> Rule:
    def rule(name: str, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise WrongType(name, f"{name}={_short(value)}: must be one of {', '.join(options)}")
        if value not in options:
            raise InvalidParameter(
                name, f"{name}={_short(value)}: must be one of {', '.join(options)}"
            )

    return rule


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise WrongType(name, f"{name}={_short(value)}: must be true or false")


def _number(minimum: float, *, strict: bool, optional: bool, infinite: bool) -> Rule:
    """A real number >= minimum (> with strict); None if optional; inf only if infinite."""

    def rule(name: str, value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, Real):
            raise WrongType(name, f"{name}={_short(value)}: must be a number")
        if math.isnan(value) or (math.isinf(value) and not infinite):
            raise InvalidParameter(name, f"{name}={value}: must be a finite number")
        if value < minimum or (strict and value == minimum):
            rule = "positive" if strict else "non-negative"
            raise InvalidParameter(name, f"{name}={value}: must be {rule}")

    return rule


def _impl(name: str, value: Any) -> None:
    if not isinstance(value, str):
        raise WrongType(name, f"impl={_short(value)}: must be a string")
    check_target(value)


def _path(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise WrongType(name, f"{name}={_short(value)}: must be a file's path")


def _tensors(name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise WrongType(name, f"{name}={_short(value)}: must be a comma list of tensors")
    names = value.split(",")
    if any(n not in TENSORS for n in names) or len(set(names)) < len(names):
        raise InvalidParameter(
            name, f"{name}={_short(value)}: a comma list of {', '.join(TENSORS)}, each once"
        )


RULES: dict[str, Rule] = {
    "in_channels": _integer(1),
    "out_channels": _integer(1),
    "kernel_size": _integer(1),
    "stride": _integer(1),
    "padding": lambda name, value: padding_value(value),
    "dilation": _integer(1),
    "groups": _integer(1),
    "bias": _flag,
    "padding_mode": _choice(PADDING_MODES),
    "batch": _integer(0),
    "length": _integer(1),
    "dtype": _choice(DTYPES),
    "seed": _integer(0),
    "device": _choice(DEVICES),
    "tf32": _flag,
    "atol": _number(0, strict=False, optional=True, infinite=False),
    "rtol": _number(0, strict=False, optional=True, infinite=False),
    "rule": _choice(PASS_RULES),
    "inputs": _path,
    "impl": _impl,
    "convention": _choice(tuple(CONVENTIONS), optional=True),
    "timeout": _number(0, strict=True, optional=False, infinite=True),
    "memory_limit": _number(0, strict=True, optional=True, infinite=False),
    "only": _tensors,
    "layout": check_layout,
    "isolate": _flag,
}


def check_field(name: str, value: object) -> None:
    """Raise InvalidParameter if `value` breaks the rule of field `name` on its own."""
    if name not in RULES:
        raise InvalidParameter(name, f"{name}: no such parameter")
    RULES[name](name, value)


def _short(value: object) -> str:
    """repr(value), cut short: a message never carries an unbounded value."""
    return reprlib.repr(value)
