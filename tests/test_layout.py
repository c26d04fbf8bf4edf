"""The package's architecture, as the folders show it: imports flow one way, the numpy layer
stands alone, no module grows past 400 lines, and the installed packages are the folders."""

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "conv1d_check"
# What each room may import of the package (besides itself): cli -> sweep -> check ->
# usercode / nn, and report, fed by cli, reads results only.
ALLOWED = {
    "nn": set(),
    "usercode": {"nn"},
    "check": {"usercode", "nn"},
    "report": {"check", "nn"},
    "sweep": {"check", "usercode", "nn", "report"},
    "cli": {"api", "check", "nn", "report", "sweep", "usercode"},
    "api": {"check", "nn", "sweep", "usercode", "pytest_plugin"},
    "pytest_plugin": {"check", "cli", "report"},  # at the end of a run: pytest's summary
}
MODULES = sorted(PACKAGE.rglob("*.py"))
# A result's display in Jupyter is the report's rendering, imported when Jupyter asks for it.
DISPLAY = {PACKAGE / "check" / "result.py": {"report"}}


def room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_rooms(path: Path) -> set[str]:
    """The rooms of the package a module imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    checking = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in checking:
            if node.level:
                target = package[: len(package) - node.level + 1] + tuple(
                    (node.module or "").split(".")
                )
            else:
                target = tuple((node.module or "").split("."))
            if target[0] == "conv1d_check" and len(target) > 1 and target[1]:
                found.add(target[1])
            elif target[0] == "conv1d_check":  # from conv1d_check import x / from . import x
                found |= {alias.name for alias in node.names}
    return found - {room(path), "__init__"}


@pytest.mark.parametrize("path", [p for p in MODULES if room(p) in ALLOWED], ids=str)
def test_imports_flow_one_way(path):
    allowed = ALLOWED[room(path)] | {"__version__"} | DISPLAY.get(path, set())
    assert imported_rooms(path) <= allowed


def test_the_numpy_layer_imports_nothing_but_numpy_and_the_standard_library():
    """threadpoolctl apart, only inside a `try` that goes on without it (no call is shared)."""
    for path in (PACKAGE / "nn").glob("*.py"):
        tree = ast.parse(path.read_text())
        optional = {id(stmt) for node in ast.walk(tree) for stmt in _without(node, "ImportError")}
        for node in ast.walk(tree):
            allowed = {"numpy"} | STDLIB | ({"threadpoolctl"} if id(node) in optional else set())
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] in allowed for a in node.names), path
            elif isinstance(node, ast.ImportFrom) and not node.level:
                assert node.module.split(".")[0] in allowed, path


def _without(node: ast.AST, error: str) -> list[ast.AST]:
    """The statements of `node`, a try whose handlers catch `error`, else nothing."""
    if not isinstance(node, ast.Try):
        return []
    caught = [h.type for h in node.handlers if isinstance(h.type, ast.Name)]
    return node.body if any(name.id == error for name in caught) else []


STDLIB = {
    "__future__",
    "collections",
    "dataclasses",
    "functools",
    "math",
    "numbers",
    "reprlib",
    "typing",
    "itertools",
    "operator",
    "os",
    "threading",
    "concurrent",
    "contextlib",
}


@pytest.mark.parametrize("path", MODULES, ids=str)
def test_no_module_is_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def test_the_installed_packages_are_the_folders():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert listed == folders | {"conv1d_check.configs"}
