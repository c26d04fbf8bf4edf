"""Config files: one schema in TOML and YAML, precedence, and every problem listed at once."""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conv1d_check.cli import app, main
from conv1d_check.nn.spec import InvalidParameter
from conv1d_check.sweep.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / "configs").iterdir() if p.suffix in (".toml", ".yaml"))
runner = CliRunner()

TOML = """
[defaults]
batch = 2
stride = 1
[[grid]]
in = [1, 4]
out = [4]
kernel_size = [1, 3]
stride = [1, 2]
padding = [0, "same"]
exclude = [{kernel_size = 1, stride = 2}]
[[case]]
in = 3
out = 5
kernel_size = 7
bias = false
"""
YAML = """
defaults: {batch: 2, stride: 1}
grid:
  - in: [1, 4]
    out: [4]
    kernel_size: [1, 3]
    stride: [1, 2]
    padding: [0, same]
    exclude: [{kernel_size: 1, stride: 2}]
case:
  - {in: 3, out: 5, kernel_size: 7, bias: false}
"""


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def cases_of(result) -> dict[str, dict]:
    return {case["id"]: case for case in json.loads(result.stdout)["cases"]}


def test_toml_and_yaml_give_the_same_cases(tmp_path):
    from_toml = load(write(tmp_path, TOML, "sweep.toml"))
    from_yaml = load(write(tmp_path, YAML, "sweep.yaml"))
    assert from_toml == from_yaml
    assert len(from_toml) == 2 * 3 * 2 + 1  # in × (k, s) pairs left by exclude × padding, + case
    assert [e.case.id for e in from_toml] == sorted(e.case.id for e in from_toml)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_loads_and_validates(path):
    """Each case validates; each skipped combination is one Conv1d refuses, for its reason."""
    entries = load(path)
    assert entries
    for entry in entries:
        if entry.skip:
            with pytest.raises(InvalidParameter):
                entry.case.validate()
            assert entry.skip.startswith("not a valid Conv1d: ")
        else:
            assert entry.case.validate() is entry.case


def test_shipped_configs_are_the_promised_sizes():
    sizes = {path.name: load(path) for path in CONFIGS}
    assert len(sizes["seed.toml"]) == 1 and sizes["seed.toml"][0].case.id.startswith(
        "in8-out12-k3-s2-p0-d1-g1-bias-zeros-n3-l20-float64-seed10"
    )
    assert 40 <= len(sizes["smoke.toml"]) <= 60 and not any(e.skip for e in sizes["smoke.toml"])
    assert sum(not e.skip for e in sizes["full.toml"]) >= 2000
    coursework = [e.case for e in sizes["mytorch.toml"]]
    assert all(
        (c.padding, c.dilation, c.groups, c.bias, c.dtype) == (0, 1, 1, True, "float64")
        for c in coursework
    )


def test_smoke_config_covers_every_feature():
    cases = [e.case for e in load(ROOT / "configs" / "smoke.toml")]
    seen = lambda name: {getattr(c, name) for c in cases}  # noqa: E731
    assert seen("padding_mode") == {"zeros", "reflect", "replicate", "circular"}
    assert {"same", "valid", 1, 2} <= seen("padding") and {1, 2, 3} <= seen("stride")
    assert {2, 3} <= seen("dilation") and {2, 4} <= seen("groups")
    assert any(c.groups == c.in_channels for c in cases)  # depthwise
    assert seen("bias") == {True, False} and seen("dtype") == {"float64", "float32"}
    assert 0 in seen("batch")


def test_the_smoke_config_passes_with_the_builtin_layer():
    result = runner.invoke(app, ["--config", str(ROOT / "configs" / "smoke.toml"), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS: 51 case(s), 51 pass")


def test_file_default_then_command_line_then_grid_value(tmp_path):
    path = write(
        tmp_path,
        """
        [defaults]
        batch = 4
        kernel_size = 5
        dilation = 2
        stride = 1
        [[grid]]
        dilation = [1]
        length = [30]
        """,
    )
    # -n beats the file's batch; --dilation loses to the grid's; -s 2 is the built-in
    # default, but given explicitly it still beats the file's stride = 1
    result = runner.invoke(
        app, ["--config", str(path), "--json", "-n", "2", "--dilation", "3", "-s", "2"]
    )
    assert result.exit_code == 0, result.output
    ((_, case),) = cases_of(result).items()
    params = case["params"]
    assert (params["batch"], params["dilation"], params["stride"]) == (2, 1, 2)
    assert (params["kernel_size"], params["length"]) == (5, 30)  # the file's, the grid's
    assert params["in_channels"] == 8  # nobody's: the notebook's


def test_an_option_left_at_its_default_does_not_override_the_file(tmp_path):
    path = write(tmp_path, "[defaults]\nstride = 1\npadding = 'same'\n[[case]]\nin = 2\n")
    result = runner.invoke(app, ["--config", str(path), "--json"])
    assert result.exit_code == 0, result.output
    ((_, case),) = cases_of(result).items()
    assert case["params"]["stride"] == 1 and case["params"]["padding"] == "same"


def test_every_problem_is_listed_at_once_with_file_place_and_key(tmp_path, capsys):
    path = write(
        tmp_path,
        """
        colour = "blue"
        [defaults]
        dtype = "float16"
        [[grid]]
        in = [1, 0]
        kernal_size = [3]
        stride = []
        [[grid]]
        kernel_size = [3, 3]
        [[case]]
        seed = "ten"
        out = [5, 6]
        [[case]]
        kernel_size = 70
        [[case]]
        in = 2
        in_channels = 2
        """,
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(path)])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2 and captured.out == ""
    assert "Traceback" not in captured.err
    expected = [
        "top level: colour: unknown section",
        "defaults: dtype: dtype='float16': must be one of float64, float32",
        "grid 1: in: in_channels=0: must be positive",
        "grid 1: kernal_size: unknown parameter (did you mean kernel_size?)",
        "grid 1: stride: an empty list gives no cases",
        "case 1: seed: seed='ten': must be an integer",
        "case 1: out: out_channels: a list is not a value (lists belong in a [[grid]])",
        "case 2: kernel_size: kernel_size=70: the kernel spans 70 samples",
        "case 3: in_channels: in_channels is given twice (as in and in_channels)",
        "grid 2: duplicate id in8-out12-k3-s2-p0-d1-g1-bias-zeros-n3-l20-float64-seed10",
    ]
    lines = captured.err.splitlines()
    assert lines[0] == f"Error: {len(expected)} problems in {path}; nothing ran:"
    for words, line in zip(expected, lines[1:], strict=True):
        assert line.startswith(f"  {path}: {words}"), line


def test_a_grid_value_invalid_on_its_own_is_an_error_not_a_skip(tmp_path):
    path = write(tmp_path, "[[grid]]\nstride = [1, 0]\ndtype = ['float64', 'float16']\n")
    with pytest.raises(ConfigError) as error:
        load(path)
    assert error.value.problems == [
        f"{path}: grid 1: stride: stride=0: must be positive",
        f"{path}: grid 1: dtype: dtype='float16': must be one of float64, float32",
    ]


def test_a_grid_combination_conv1d_refuses_is_skipped_with_the_reason(tmp_path):
    path = write(
        tmp_path,
        """
        [[grid]]
        in = [4]
        out = [4, 6]
        groups = [1, 4]
        stride = [1, 2]
        padding = ["same"]
        length = [3]
        kernel_size = [3, 9]
        """,
    )
    skipped = {e.case.id: e.skip for e in load(path) if e.skip}
    runs = [e.case.id.split("-bias")[0] for e in load(path) if not e.skip]
    assert runs == [
        "in4-out4-k3-s1-psame-d1-g1",
        "in4-out4-k3-s1-psame-d1-g4",
        "in4-out4-k9-s1-psame-d1-g1",  # 'same' pads the input up to the kernel
        "in4-out4-k9-s1-psame-d1-g4",
        "in4-out6-k3-s1-psame-d1-g1",
        "in4-out6-k9-s1-psame-d1-g1",
    ]
    assert skipped["in4-out6-k3-s1-psame-d1-g4-bias-zeros-n3-l3-float64-seed10"] == (
        "not a valid Conv1d: groups=4: must divide out_channels=6"
    )
    assert skipped["in4-out4-k3-s2-psame-d1-g1-bias-zeros-n3-l3-float64-seed10"].startswith(
        "not a valid Conv1d: padding='same' needs stride 1 (got stride=2)"
    )


def test_exclude_drops_the_combinations_it_matches_any_of_a_list(tmp_path):
    path = write(
        tmp_path,
        """
        [[grid]]
        kernel_size = [1, 2, 3]
        stride = [1, 2]
        exclude = [{kernel_size = [1, 2], stride = 2}]
        """,
    )
    assert [(e.case.kernel_size, e.case.stride) for e in load(path)] == [
        (1, 1),
        (2, 1),
        (3, 1),
        (3, 2),
    ]


@pytest.mark.parametrize(
    "text, words",
    [
        ("[defaults]\nbatch = 2\n", "top level: no cases: give a [[grid]] or a [[case]]"),
        ("[[grid]]\nstride = [2]\nexclude = [{stride = 2}]\n", "top level: no cases"),
        ("[[grid]]\nstride = [1]\natol = 1e-3\n", "grid 1: rtol: atol needs rtol"),
        ("grid = {stride = [1]}\n", "grid: must be an array of tables ([[grid]] in TOML)"),
        ("[[case]]\nimpl = 'nowhere.py:Conv1D'\n", "impl='nowhere.py:Conv1D': no such file"),
        ("[[grid", "not valid TOML: Expected ']]'"),
    ],
)
def test_a_lone_problem_is_one_line_and_exit_2(tmp_path, capsys, text, words):
    path = write(tmp_path, text)
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith(f"Error: {path}") and words in err, err


def test_a_missing_file_and_a_bad_suffix_are_named(tmp_path, capsys):
    for path, words in [
        (tmp_path / "none.toml", "cannot read it: No such file"),
        (write(tmp_path, "", "sweep.json"), "a config file ends in .toml, .yaml or .yml"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(["--config", str(path)])
        assert exit_info.value.code == 2 and words in capsys.readouterr().err


def test_an_explicit_option_is_checked_like_a_single_case(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(write(tmp_path, TOML)), "--stride", "0"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "Error: --stride: stride=0: must be positive\n"


def test_a_shipped_config_by_name_from_a_folder_holding_a_namesake_directory(tmp_path, monkeypatch):
    """A student's homework folder is called mytorch: --config mytorch is still the config."""
    (tmp_path / "mytorch").mkdir()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--config", "mytorch", "--json"])
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["cases"]) == 160


def test_an_unknown_config_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--config", "mytroch"])
    assert result.exit_code == 2
    assert "no such file, nor a shipped config (those are: example, full, mytorch" in result.stderr


def test_a_folder_given_as_the_config_is_named_a_directory(tmp_path, capsys):
    from conv1d_check.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(tmp_path)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith(
        f"Error: {tmp_path}: a directory, not a config file, nor a shipped config"
    )


def test_a_fifo_given_as_the_config_is_named_so_and_not_opened(tmp_path, capsys):
    """A FIFO would block a reader forever; it exists, so "no such file" would be untrue."""
    from conv1d_check.cli import main

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(fifo)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith(
        f"Error: {fifo}: not a regular file (a pipe or a device), nor a shipped config"
    )
