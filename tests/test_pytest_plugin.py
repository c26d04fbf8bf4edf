"""The pytest plugin and the API's messages as a pytest user meets them: a failing parametrized
suite ends with the failure groups, each failure's message opens with what is wrong, a skip
speaks the API's keywords, a mistyped keyword names the one meant."""

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
LAYERS = Path(__file__).parent / "layers"

SUITE = """
import pytest
import conv1d_check
from broken_stride_ignored_backward import Conv1D as MyConv1D

CASES = conv1d_check.cases("mytorch", impl=MyConv1D, length=7, batch=1)[:8]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_my_layer(case):
    conv1d_check.assert_matches_torch(case)


def test_a_padding_my_layer_cannot_take():
    conv1d_check.assert_matches_torch(impl=MyConv1D, padding=1)


def test_a_mistyped_keyword():
    conv1d_check.assert_matches_torch(kernel=3)
"""


@pytest.fixture
def run(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(LAYERS))
    pytester.makepyfile(test_suite=SUITE)
    return pytester.runpytest_subprocess("-q", "-rs", "-p", "no:cacheprovider")


def test_a_failing_suite_ends_with_the_groups_and_each_failure_opens_with_whats_wrong(run):
    """One run of a suite (a subprocess: the plugin as pytest loads it), read for each point."""
    out = run.stdout.str()
    run.assert_outcomes(failed=7, passed=2, skipped=1)
    section = out[out.index("= conv1d-check =") :].splitlines()
    assert section[1] == "6 failing case(s) in 1 group(s):"
    what, where, smallest = section[2].split("; ")  # a group is one line, as -q prints it
    assert what.startswith("FAIL 6 case(s): dX: matches a backward that ignores the stride")
    assert where == "fails exactly when stride >= 2"
    assert smallest.startswith("smallest: conv1d-check --in 1 --out 2 -k 1 -s 4 -n 1 -l 7 --impl ")
    first = "E       AssertionError: dX: matches a backward that ignores the stride"
    assert out.count(first) == 6

    # and the API speaks its own keywords: the skip's reason, the mistyped keyword's TypeError
    assert "takes no padding=1 (pass padding=0)" in out and "--padding" not in out
    assert (
        "assert_matches_torch() got an unexpected keyword argument 'kernel'; did you mean "
        "'kernel_size'?" in out
    )
    assert "impl='builtin'" not in out


def test_a_passing_suite_has_no_section(pytester, monkeypatch):
    pytester.makepyfile(
        test_ok="import conv1d_check\ndef test_ok():\n"
        "    conv1d_check.assert_matches_torch(kernel_size=5)\n"
    )
    done = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    done.assert_outcomes(passed=1)
    assert "conv1d-check" not in done.stdout.str()


def test_a_mistyped_keyword_names_the_function_called_and_the_keyword_meant():
    import conv1d_check

    with pytest.raises(TypeError, match=r"^check\(\) got an unexpected keyword argument 'kernel'"):
        conv1d_check.check(kernel=3)
    with pytest.raises(TypeError, match=r"^assert_matches_torch\(\) .*'strides'; did you mean "):
        conv1d_check.assert_matches_torch(strides=2)
    with pytest.raises(TypeError, match=r"give the case first, check\(case\), not case="):
        conv1d_check.check(case=conv1d_check.Case())


def test_a_layer_given_in_the_cases_place_is_one_line_naming_impl():
    """A student's first try, check(MyConv1D), once failed deep inside dataclasses.replace."""
    import conv1d_check

    class MyConv1D:
        pass

    for called in (conv1d_check.check, conv1d_check.assert_matches_torch):
        with pytest.raises(
            conv1d_check.InvalidParameter,
            match=r"the first argument is a Case; a layer is given as \w+\(impl=\.\.\.\)",
        ) as raised:
            called(MyConv1D)
        assert isinstance(raised.value, TypeError) and raised.value.param == "case"


def test_a_skips_reason_gives_the_keywords_that_would_run_it():
    from conv1d_check.api import keyword_form

    reason = "the layer's constructor takes no stride=2, padding=1 (run with -s 1 --padding 0)"
    assert keyword_form(reason).endswith("takes no stride=2, padding=1 (pass stride=1 padding=0)")
