"""Case's fields are the one list of parameters: every place that must restate them (the
command line's options, the API's keywords, the id) is held to it here, so a new field that one
of them misses fails a test rather than a user."""

import inspect
from dataclasses import fields, replace

import pytest
from typer.main import get_command

from conv1d_check import Case, assert_matches_torch, check
from conv1d_check.check.case import FIELDS
from conv1d_check.cli import app

# How a case runs, not what it checks: left out of its id (two runs of a layer under another
# timeout are the same check).
HOW_IT_RUNS = {"impl", "convention", "timeout", "memory_limit", "isolate"}
# A value other than the default for each field (a new field needs one here).
OTHER_VALUES = {
    "in_channels": 4, "out_channels": 6, "kernel_size": 5, "stride": 1, "padding": 1,
    "dilation": 2, "groups": 2, "bias": False, "padding_mode": "reflect", "batch": 2,
    "length": 30, "dtype": "float32", "seed": 11, "device": "cuda", "tf32": True, "atol": 1e-6,
    "rtol": 1e-5, "rule": "normwise", "inputs": "mine.npz", "impl": "layer.py:Conv1D",
    "convention": "seed", "timeout": 5.0, "memory_limit": 1.0, "only": "y",
    "layout": "x=NLC,W=KIO", "isolate": False,
}  # fmt: skip
# Fields that come in pairs are changed one at a time from a case that holds both.
PAIRED = {"atol": {"atol": 1e-7, "rtol": 1e-7}, "rtol": {"atol": 1e-7, "rtol": 1e-7}}
# Options of the command that are about the run, not the case.
RUN_OPTIONS = {
    "config", "jobs", "shard", "output", "resume", "max_cases", "max_failures", "search",
    "list_skipped", "allow_empty", "json_output", "junit", "markdown", "quiet", "version",
    "save", "html", "map_axes",
}  # fmt: skip


def test_every_field_has_another_value_to_test_with():
    assert set(OTHER_VALUES) == set(FIELDS)


@pytest.mark.parametrize("name", FIELDS)
def test_the_id_changes_with_every_field_but_how_the_case_runs(name):
    base = Case(**PAIRED.get(name, {}))
    other = replace(base, **{name: OTHER_VALUES[name]})  # not validated: the id is a name
    assert (other.id == base.id) == (name in HOW_IT_RUNS), other.id


def test_every_field_is_an_option_with_cases_default():
    options = {param.name: param for param in get_command(app).params}
    assert set(options) - set(FIELDS) <= RUN_OPTIONS, set(options) - set(FIELDS) - RUN_OPTIONS
    for field in fields(Case):
        default = options[field.name].default
        default = int(default) if field.name == "padding" else default  # typed as text: 'same'
        assert default == field.default, field.name


@pytest.mark.parametrize("function", [check, assert_matches_torch])
def test_the_api_takes_every_field_as_a_keyword(function):
    keywords = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert keywords == list(FIELDS)
