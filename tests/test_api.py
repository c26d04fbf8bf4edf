"""The Python API for test suites: layers given as classes, modules or paths, a config's cases
to parametrize over, assertion messages with the diagnosis, and clear errors for bad input."""

import inspect
import textwrap
from pathlib import Path

import pytest

import conv1d_check
from conv1d_check import Case, DeviceUnavailable, InvalidParameter, cases, check

LAYERS = Path(__file__).parent / "layers"
pytest_plugins = ["pytester"]


@pytest.fixture
def layers_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(LAYERS))


def test_a_configs_cases_by_name_for_parametrize():
    found = cases("mytorch")
    assert len(found) == 160 and all(isinstance(c, Case) for c in found)
    assert [str(c) for c in found] == [c.id for c in found]
    assert len(set(map(str, found))) == 160


def test_cases_take_overrides_and_leave_out_what_conv1d_refuses(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('[[grid]]\nkernel_size = [1, 3]\nstride = [1, 2]\npadding = ["same"]\n')
    found = cases(path, dtype="float32")
    assert [(c.kernel_size, c.stride, c.dtype) for c in found] == [
        (1, 1, "float32"),
        (3, 1, "float32"),
    ]  # 'same' with stride 2 is no Conv1d: not a case to run


def test_a_layer_given_as_a_class_a_module_or_a_path(layers_on_path):
    import correct_functional
    from correct_layer_params import Conv1d

    assert check(impl=Conv1d).status == "pass"
    assert check(impl=correct_functional).status == "pass"
    assert check(impl=LAYERS / "correct_functional.py").status == "pass"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"impl": 123}, "impl"),
        ({"atol": "tiny", "rtol": 0.0}, "atol"),
        ({"timeout": "long"}, "timeout"),
        ({"tf32": "yes"}, "tf32"),
        ({"batch": 2.5}, "batch"),
        ({"padding_mode": 3}, "padding_mode"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_type_error_naming_the_parameter(params, param):
    with pytest.raises(TypeError) as error:
        check(**params)
    assert isinstance(error.value, InvalidParameter) and error.value.param == param


def test_a_class_that_cannot_be_pickled_is_refused_clearly():
    class Local:
        lock = __import__("threading").Lock()

    with pytest.raises(InvalidParameter, match="cannot be pickled"):
        check(impl=Local)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="tests a CPU-only torch")
def test_a_missing_gpu_is_the_same_clear_error_as_on_the_command_line():
    with pytest.raises(DeviceUnavailable, match="--device cuda: CUDA is not available"):
        check(device="cuda")


def test_the_api_shows_its_parameters_to_help_and_editors():
    for function in (check, conv1d_check.assert_matches_torch):
        parameters = inspect.signature(function).parameters
        assert {"kernel_size", "impl", "dtype", "only"} <= set(parameters)
    assert "Parameters" in check.__doc__


SUITE = """
import sys
sys.path.insert(0, {layers!r})

import pytest
import conv1d_check
from {module} import {name} as Layer

@pytest.mark.parametrize("case", conv1d_check.cases("mytorch")[::40], ids=str)  # 4 of 160
def test_my_layer(case):
    conv1d_check.assert_matches_torch(case, impl=Layer)
"""


def run_suite(pytester, module, name):
    suite = SUITE.format(layers=str(LAYERS), module=module, name=name)
    # in this process; a name of its own, since tests/test_layer.py is imported here already
    pytester.makepyfile(test_users_layer=textwrap.dedent(suite))
    return pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")


def test_a_pytest_suite_over_a_config_passes_on_a_correct_layer(pytester):
    result = run_suite(pytester, "correct_mytorch_v2", "Conv1d")
    result.assert_outcomes(passed=4)


def test_a_pytest_suite_fails_with_the_diagnosis_and_without_the_tools_frames(pytester):
    result = run_suite(pytester, "broken_one_sample_dw", "Conv1d")
    result.assert_outcomes(failed=4)
    out = result.stdout.str()
    assert "diagnosis: dW: has sample 0's contribution only" in out
    assert "conv1d_check/api.py" not in out  # __tracebackhide__: the user's line, not ours


def test_the_assertion_shows_the_layers_own_traceback():
    with pytest.raises(AssertionError) as error:
        conv1d_check.assert_matches_torch(impl=f"{LAYERS / 'broken_raises.py'}:Conv1d")
    text = str(error.value)
    assert 'broken_raises.py", line 14, in Conv1d.backward' in text
    assert "g = grad_out[:, :, i]" in text
