"""Layers in any layout: channels-last input, weights in any axis order, given with --layout
or found by measurement; weights and gradients in dicts, behind properties, made lazily."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from conv1d_check import check
from conv1d_check.cli import app
from conv1d_check.nn.spec import InvalidParameter
from conv1d_check.sweep.config import load
from conv1d_check.usercode.layout import AXES_NOTE, W_LAYOUTS, Layout, find, parse
from conv1d_check.usercode.protocol import Unusable

LAYERS = Path(__file__).parent / "layers"
KERAS = "x=NLC,W=KIO"


def layer(name: str) -> str:
    return str(LAYERS / name)


@pytest.mark.parametrize("W", W_LAYOUTS)
def test_a_weight_layout_puts_each_element_where_its_axes_say_and_back(W):
    weights = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # (O, I, K)
    layout = Layout("NCL", W)
    theirs = layout.weights(weights)
    for o, c, k in np.ndindex(weights.shape):
        at = {"O": o, "I": c, "K": k}
        assert theirs[tuple(at[axis] for axis in W)] == weights[o, c, k]
    assert np.array_equal(layout.weights_back(theirs), weights)


def test_channels_last_swaps_channels_and_positions():
    x = np.arange(2 * 3 * 5).reshape(2, 3, 5)  # (N, C, L)
    theirs = Layout("NLC").data(x)
    assert theirs.shape == (2, 5, 3) and theirs[1, 4, 2] == x[1, 2, 4]


@pytest.mark.parametrize("text", ["x=NCW", "W=OIKK", "y=NLC", "", "x=NLC,W=KIO,x", "nlc"])
def test_a_bad_layout_is_refused_naming_the_rule(text):
    with pytest.raises(InvalidParameter, match=r"x=NCL\|NLC and W=a permutation of OIK") as error:
        parse(text)
    assert error.value.param == "layout"


def test_layouts_that_all_match_are_named_and_none_is_chosen():
    """A forward that matches under two layouts (one that reads its weights symmetrically,
    say) leaves the layout unknown: both are named, neither is guessed."""
    rng = np.random.default_rng(0)
    tensors = {"x": rng.standard_normal((2, 3, 5)), "W": rng.standard_normal((3, 3, 3))}
    expected = rng.standard_normal((2, 3, 3))

    def attempt(layout):
        if layout.x == "NCL":
            raise ValueError("channels last only")
        return (expected if layout.W in ("OIK", "KIO") else -expected), False

    with pytest.raises(Unusable) as error:
        find(attempt, tensors, expected)
    assert str(error.value) == (
        "the forward matches under several layouts (x=NLC,W=OIK, x=NLC,W=KIO): give --layout "
        "to say which is the layer's"
    )


def test_a_keras_style_layer_passes_as_written_with_its_layout_found_and_named():
    result = check(impl=layer("correct_keras_layout.py:Conv1D"))
    assert result.status == "pass", result.message
    assert result.layout == KERAS
    assert f"layout found by measurement: {KERAS}" in result.notes
    assert AXES_NOTE in result.notes
    assert result.to_record()["layout"] == KERAS


def test_a_keras_style_layer_with_a_dw_bug_fails_with_its_diagnosis():
    result = check(impl=layer("broken_keras_layout_dw.py:Conv1D"))
    assert result.status == "fail" and result.layout == KERAS
    assert set(result.errors) == {"y", "dX", "dW", "db"}
    assert [n for n, e in result.errors.items() if not e.passed] == ["dW"]
    assert result.diagnosis[0].startswith("dW: exactly 1/N = 1/3 of the truth")
    assert "the bug is in backward" in result.diagnosis[-1]


def test_a_given_layout_is_used_as_given_and_named_in_the_id():
    result = check(impl=layer("correct_keras_layout.py:Conv1D"), layout=KERAS, dtype="float32")
    assert result.status == "pass", result.message
    assert not any(n.startswith("layout found") for n in result.notes)
    assert AXES_NOTE in result.notes
    assert result.id.endswith("-float32-seed10-layout-xNLC-WKIO")
    assert check(impl=layer("correct_keras_layout.py:Conv1D")).id.endswith("-seed10")


def test_the_layout_is_found_even_where_every_shape_fits_every_layout():
    """C_in = C_out = K = L: only the forward's numbers tell the layouts apart."""
    square = dict(in_channels=3, out_channels=3, kernel_size=3, length=3, stride=1)
    result = check(impl=layer("correct_keras_layout.py:Conv1D"), **square)
    assert result.status == "pass", result.message
    assert result.layout == KERAS


def test_a_layout_no_forward_confirms_is_one_sentence_and_not_judged():
    cube = dict(in_channels=3, out_channels=3, kernel_size=3)
    result = check(impl=layer("broken_keras_layout_flipped.py:Conv1D"), **cube)
    assert result.status == "error" and not result.errors
    assert result.message == (
        "the layer's shapes fit 6 layouts (x=NLC,W=OIK, x=NLC,W=KIO, x=NLC,W=OKI, x=NLC,W=IOK, "
        "x=NLC,W=IKO, x=NLC,W=KOI) and under none does its forward match: give --layout to say "
        "which is the layer's (as x=NCL,W=OIK its forward raised ValueError)"
    )
    told = check(impl=layer("broken_keras_layout_flipped.py:Conv1D"), layout=KERAS, **cube)
    assert told.status == "fail"
    assert told.diagnosis[0].startswith("y: matches a convolution with the kernel flipped")


def test_a_single_layout_the_forward_does_not_confirm_is_named_for_the_option():
    result = check(impl=layer("broken_keras_layout_flipped.py:Conv1D"))
    assert result.status == "error"
    assert result.message == (
        "the layer takes its tensors only as x=NLC,W=KIO, and its forward does not match "
        "there: to judge it so, give --layout x=NLC,W=KIO"
    )


def test_a_single_tap_kernel_is_written_in_its_layout_not_reshaped():
    """W (C_out, C_in, 1) kept as (1, C_in, C_out) holds the same elements, in another order:
    a reshape would run, and give a wrong y."""
    result = check(
        impl=layer("correct_keras_layout.py:Conv1D"), in_channels=4, out_channels=4, kernel_size=1
    )
    assert result.status == "pass", result.message
    assert result.layout == KERAS


def test_the_strips_follow_the_layers_axes():
    result = check(impl=layer("broken_keras_layout_dw.py:Conv1D"))
    assert list(result.where["dW"]) == ["tap", "in channel", "out channel"]


FUNCTIONAL = """
import numpy as np


def forward(x, w, b, stride):
    K = w.shape[0]
    L_out = (x.shape[1] - K) // stride + 1
    index = stride * np.arange(L_out)[:, None] + np.arange(K)
    windows = x[:, index, :]
    return np.einsum("nlkc,kco->nlo", windows, w) + b, (x, w, index)


def backward(dy, cache):
    x, w, index = cache
    windows = x[:, index, :]
    dx = np.zeros_like(x)
    for k in range(w.shape[0]):
        np.add.at(dx, (slice(None), index[:, k]), np.einsum("nlo,co->nlc", dy, w[k]))
    return dx, np.einsum("nlkc,nlo->kco", windows, dy){bug}, dy.sum(axis=(0, 1))
"""


@pytest.mark.parametrize(("bug", "status"), [("", "pass"), ("[::-1]", "fail")])
def test_a_functional_module_in_keras_layout_is_found_and_judged(tmp_path, bug, status):
    path = tmp_path / "keras_functional.py"
    path.write_text(FUNCTIONAL.replace("{bug}", bug))
    result = check(impl=str(path))
    assert result.status == status, result.message
    assert result.layout == KERAS
    if bug:  # dW with its taps reversed, in the layer's axes (K first)
        assert [n for n, e in result.errors.items() if not e.passed] == ["dW"]


def test_a_gradient_of_the_wrong_shape_is_told_in_the_layers_axes_too(tmp_path):
    path = tmp_path / "swapped.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_keras_layout import Conv1D as Correct\n\n"
        "class Conv1D(Correct):\n"
        "    def backward(self, dy):\n"
        "        dx = super().backward(dy)\n"
        "        self.grad_kernel = self.grad_kernel.transpose(0, 2, 1).copy()\n"
        "        return dx\n"
    )
    result = check(impl=f"{path}:Conv1D")
    assert result.status == "fail"
    assert result.message == (
        "dW: shape (3, 12, 8), expected (12, 8, 3) (x=NLC,W=KIO: (3, 8, 12) in the layer's axes)"
    )


def test_a_flat_weight_store_is_kept_only_as_its_forward_confirms():
    result = check(impl=layer("correct_column_storage.py:Conv1d"))
    assert result.status == "pass", result.message
    assert "layout found by measurement: x=NCL,W=OIK (W regrouped to the layer's shape)" in (
        result.notes
    )


@pytest.mark.parametrize(
    ("name", "wrong", "words"),
    [
        ("correct_params_dict.py:Conv1d", None, None),
        ("broken_params_dict_db.py:Conv1d", "db", "db: has 2 axes, not 1"),
        ("correct_property_adapter.py:Conv1d", None, None),
        ("broken_property_adapter_dx.py:Conv1d", "dX", "dX: exactly the truth with its sign"),
        ("correct_lazy_channels_last.py:Conv1D", None, None),
        ("broken_lazy_channels_last.py:Conv1D", "dW", "dW: has sample 0's contribution only"),
    ],
)
def test_weights_in_dicts_properties_and_lazy_layers_are_found(name, wrong, words):
    result = check(impl=layer(name))
    if wrong is None:
        assert result.status == "pass", result.message
    else:
        assert result.status == "fail"
        assert wrong in result.message.split(":")[0] or not result.errors[wrong].passed
        assert result.diagnosis[0].startswith(words)
    if "lazy" in name:
        assert result.layout == KERAS
        assert "the layer makes its weights at its first forward: ours were put in after it" in (
            result.notes
        )


def test_an_adapter_that_hands_out_its_engines_arrays_by_getattr_passes(tmp_path):
    """W, b, dW and db come from __getattr__: ours are written into the arrays it hands out
    (an attribute set on the adapter would shadow them, unread by the engine)."""
    path = tmp_path / "delegating.py"
    path.write_text(
        f"import sys\nsys.path.insert(0, {str(LAYERS)!r})\n"
        "from correct_property_adapter import _Engine\n\n"
        "NAMES = {'W': 'kernel_matrix', 'b': 'offsets',\n"
        "         'dW': 'kernel_grad', 'db': 'offset_grad'}\n\n"
        "class Conv1d:\n"
        "    def __init__(self, in_channels, out_channels, kernel_size, stride=1):\n"
        "        self.engine = _Engine(in_channels, out_channels, kernel_size, stride)\n\n"
        "    def __getattr__(self, name):\n"
        "        if name in NAMES:\n"
        "            return getattr(self.engine, NAMES[name])\n"
        "        raise AttributeError(name)\n\n"
        "    def forward(self, x):\n"
        "        return self.engine.run(x)\n\n"
        "    def backward(self, dy):\n"
        "        return self.engine.back(dy)\n"
    )
    result = check(impl=f"{path}:Conv1d")
    assert result.status == "pass", result.message


def test_the_layout_option_reaches_the_layer_and_a_bad_one_is_one_line():
    runner = CliRunner()
    args = ["--impl", layer("correct_keras_layout.py:Conv1D"), "--json"]
    ok = runner.invoke(app, [*args, "--layout", KERAS])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["cases"][0]["layout"] == KERAS
    bad = runner.invoke(app, [*args, "--layout", "x=NLC,W=KIJ"])
    assert bad.exit_code == 2
    assert bad.stderr.strip().splitlines() == [
        "Error: --layout: layout='x=NLC,W=KIJ': x=NCL|NLC and W=a permutation of OIK, "
        "e.g. x=NLC,W=KIO"
    ]


def test_a_layout_for_the_builtin_layer_is_refused():
    with pytest.raises(InvalidParameter, match="for a user's layer"):
        check(layout=KERAS)


def test_a_config_gives_the_layout_as_a_key(tmp_path):
    path = tmp_path / "keras.toml"
    impl = layer("correct_keras_layout.py:Conv1D")
    path.write_text(f'[defaults]\nlayout = "{KERAS}"\nimpl = "{impl}"\n[[case]]\nkernel_size = 5\n')
    (entry,) = load(path)
    assert entry.case.layout == KERAS
