"""Finding the user's layer: what `--impl` names, checked without running it, then loaded.

`impl` is `path/to/file.py[:Name]` or `package.module[:Name]`; without a name it is a module of
functions. In the Python API it may also be a `Path`, a class or a module, turned into that form
by `as_impl`.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
import threading
from importlib.machinery import PathFinder
from pathlib import Path
from types import ModuleType
from typing import Any

from ..nn.spec import InvalidParameter
from . import byvalue
from .protocol import BUILTIN, Unusable

# ast.parse from two threads at once can fail in CPython before 3.12 ("AST constructor recursion
# depth mismatch": the constructor's depth counter is the interpreter's, not the thread's; see
# python/cpython#106905); the API's check() runs from threads, so parsing takes turns.
_PARSING = threading.Lock()


def as_impl(value: object) -> str:
    """`impl` as its string form: a str as it is; a Path, a class or a module as the file that
    defines it, with the class's name; one that no .py file holds at top level (a notebook's
    cell, a function's local class) as the label of its pickle (`byvalue`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, ModuleType):
        return _defining_file(value) or byvalue.register(value)
    if inspect.isclass(value):
        module = sys.modules.get(value.__module__)
        path = _defining_file(module)
        if path and _holds(module, value.__qualname__, value):
            return f"{path}:{value.__qualname__}"
        return byvalue.register(value)
    raise WrongImplType(
        "impl", f"impl={type(value).__name__}: must be a str, Path, class or module"
    )


class WrongImplType(InvalidParameter, TypeError):
    """`impl` is none of the things that can name a layer."""


def _holds(module: ModuleType, qualname: str, value: type) -> bool:
    """`module` has `value` at `qualname` (a class made in a function, or by exec'd code that
    only names the module, does not)."""
    found: object = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is value


def _defining_file(module: ModuleType | None) -> str | None:
    """The .py file the worker can load `module` from, if there is one. Never a script's
    (`__main__`): loading it runs the script again, check() and all, in the worker."""
    if module is None or module.__name__ == "__main__":
        return None
    path = getattr(module, "__file__", None)
    return str(Path(path).resolve()) if path and path.endswith(".py") else None


def check_target(impl: str) -> None:
    """The file or module that `impl` names must exist, and a file must define the name.

    Nothing of the user's code runs here: the file is parsed, not imported.
    """
    if impl == BUILTIN or byvalue.payload(impl):
        return
    if byvalue.is_label(impl):
        raise InvalidParameter(
            "impl",
            f"impl={impl!r}: a layer given by value runs only in the Python process that gave it",
        )
    target, _, name = impl.partition(":")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            what = "a directory" if path.is_dir() else "no such file"
            raise InvalidParameter("impl", f"impl={impl!r}: {what} {target}")
        defined = _top_level_names(path)
        top = name.split(".")[0]
        if top and defined is not None and top not in defined:
            raise InvalidParameter(
                "impl",
                f"impl={impl!r}: {path.name} defines no {top!r} "
                f"(it defines: {', '.join(sorted(defined)) or 'nothing'})",
            )
    elif not _importable(target.split(".")[0]):
        raise InvalidParameter("impl", f"impl={impl!r}: no module named {target.split('.')[0]!r}")


def _importable(package: str) -> bool:
    """`package` can be imported from the working directory (where --impl looks first) or
    from the import path."""
    search = [str(Path.cwd()), *sys.path]
    return package in sys.modules or PathFinder.find_spec(package, search) is not None


def _top_level_names(path: Path) -> set[str] | None:
    """Names a file binds at top level; None when it cannot tell (a syntax error, import *)."""
    try:
        with _PARSING:
            tree = ast.parse(path.read_text(), str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def load(impl: str) -> Any:
    """The object `impl` names: `file.py[:Name]` or `package.module[:Name]`; a dotted Name
    reaches a nested class.

    A file's folder goes first on the import path, since coursework files import their
    siblings. Without a name the module itself is returned.
    """
    target, _, name = impl.partition(":")
    if target.endswith(".py"):
        path = Path(target).resolve()
        sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
    else:
        sys.path.insert(0, str(Path.cwd()))
        module = importlib.import_module(target)
    found = module
    for part in name.split(".") if name else []:
        if not hasattr(found, part):
            classes = [
                n for n, v in vars(module).items() if inspect.isclass(v) and not n.startswith("_")
            ]
            raise Unusable(
                f"{target} has no {name!r} (it defines: {', '.join(classes) or 'no classes'})"
            )
        found = getattr(found, part)
    return found
