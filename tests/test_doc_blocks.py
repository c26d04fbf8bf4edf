"""Every code block of the README and docs/ as written: TOML and YAML parse (a TOML example is a
config the tool loads), JSON parses, Python compiles and runs, shell is valid bash, and every
conv1d-check command in them has options the command line takes. The CI files in docs/ci/ are
checked the same way; tests/test_ci_kit.py runs the commands."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from conv1d_check.cli import app, report_app
from conv1d_check.sweep.config import load

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)
LAYERS = ROOT / "tests" / "layers"


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    language: str
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}:{self.language or 'untagged'}"


def blocks() -> list[Block]:
    """The fenced blocks of the docs, and the files of docs/ci/ as blocks of their own."""
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(path, line, match[2], match[3]))
    kinds = {".yml": "yaml", ".yaml": "yaml", ".sh": "bash", ".toml": "toml", ".json": "json"}
    for path in sorted((ROOT / "docs" / "ci").iterdir()):
        found.append(Block(path, 1, kinds[path.suffix], path.read_text()))
    return found


def shell_lines(text: str) -> list[str]:
    """The commands of a shell text: continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip()[:1] not in ("", "#")]


def tool_commands(lines: list[str]) -> list[list[str]]:
    """The conv1d-check commands among shell lines (each part of a `&&` chain), as arguments."""
    found = []
    for line in lines:
        line = re.sub(r"\$\{\w+(:-[^}]*)?\}|\$\w+", "1", line)  # a variable, as a value
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part, comments=True)
            if words[:1] == ["conv1d-check"]:
                found.append(words[1:])
    return found


def assert_the_tool_takes(arguments: list[str]) -> None:
    """The command line parses these arguments (nothing runs; a usage error raises)."""
    command, arguments = (
        (report_app, arguments[1:]) if arguments[:1] == ["report"] else (app, arguments)
    )
    get_command(command).make_context("conv1d-check", list(arguments))


def check_toml(block: Block, tmp_path: Path) -> None:
    tomllib.loads(block.text)
    config = tmp_path / "example.toml"
    config.write_text(block.text)
    assert load(config, {}), "the example makes no case"


def check_yaml(block: Block, tmp_path: Path) -> None:
    assert yaml.safe_load(block.text) is not None


def check_json(block: Block, tmp_path: Path) -> None:
    json.loads(block.text)


def check_python(block: Block, tmp_path: Path) -> None:
    """Compiled, then run with the names an example leaves to its reader: pytest, and the
    user's layer (a correct one of ours)."""
    code = compile(block.text, str(block), "exec")
    sys.path.insert(0, str(LAYERS))
    try:
        from correct_mytorch_v1 import Conv1D as MyConv1D

        exec(code, {"pytest": pytest, "MyConv1D": MyConv1D})
    finally:
        sys.path.remove(str(LAYERS))


def check_bash(block: Block, tmp_path: Path) -> None:
    done = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for arguments in tool_commands(shell_lines(block.text)):
        assert_the_tool_takes(arguments)


def check_console(block: Block, tmp_path: Path) -> None:
    """A transcript: its `$ ` lines are commands the tool takes."""
    commands = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]
    assert commands, "a transcript shows the command it ran"
    for arguments in tool_commands(commands):
        assert_the_tool_takes(arguments)


def check_text(block: Block, tmp_path: Path) -> None:
    """Prose laid out (a tree, a schema, a formula): nothing to run."""


CHECKS = {
    "toml": check_toml,
    "yaml": check_yaml,
    "json": check_json,
    "python": check_python,
    "bash": check_bash,
    "console": check_console,
    "text": check_text,
}
BLOCKS = blocks()


def test_the_docs_have_blocks_of_every_checked_kind_but_json():
    assert {b.language for b in BLOCKS} == set(CHECKS) - {"json"}


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_every_code_block_is_valid_as_written(block, tmp_path):
    assert block.language in CHECKS, f"{block}: tag it with one of {', '.join(CHECKS)}"
    CHECKS[block.language](block, tmp_path)


def test_a_broken_block_is_caught(tmp_path):
    """The checks fail on what the issue found: a TOML example with doubled braces, an option
    the tool does not have."""
    with pytest.raises(tomllib.TOMLDecodeError):
        check_toml(Block(ROOT, 1, "toml", "exclude = [{{kernel_size = 1}}]\n"), tmp_path)
    with pytest.raises(Exception, match="No such option"):
        check_console(Block(ROOT, 1, "console", "$ conv1d-check --kernel 3\n"), tmp_path)
