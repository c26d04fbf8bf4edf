"""Hypothesis strategies over torch.nn.Conv1d's parameter space."""

from hypothesis import strategies as st

from conv1d_check.nn.spec import PADDING_MODES, ConvSpec


def min_length(spec: ConvSpec) -> int:
    """The shortest input torch accepts for `spec`, worked out from its rules independently."""
    left, right = spec.pads
    needed = max(1, spec.span - left - right)
    if spec.padding_mode == "reflect":
        needed = max(needed, max(left, right) + 1)
    if spec.padding_mode == "circular":
        needed = max(needed, max(left, right))
    return needed


@st.composite
def specs(draw, max_per_group: int = 3, max_kernel: int = 5) -> ConvSpec:
    groups = draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 4), st.sampled_from(["same", "valid"])))
    return ConvSpec(
        in_channels=groups * draw(st.integers(1, max_per_group)),
        out_channels=groups * draw(st.integers(1, max_per_group)),
        kernel_size=draw(st.integers(1, max_kernel)),
        stride=1 if padding == "same" else draw(st.integers(1, 4)),
        padding=padding,
        dilation=draw(st.integers(1, 3)),
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=draw(st.sampled_from(PADDING_MODES)),
    )


@st.composite
def cases(draw, max_batch: int = 3, extra_length: int = 12):
    """(spec, batch, length) that torch accepts."""
    spec = draw(specs())
    length = draw(st.integers(min_length(spec), min_length(spec) + extra_length))
    return spec, draw(st.integers(0, max_batch)), length
