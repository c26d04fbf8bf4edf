"""A layer that no .py file holds (defined in a notebook cell, IPython, `python -`, or inside a
function) sent to its worker by value, with cloudpickle.

`register` pickles the class or module once, in the tool's process, and names it with a label,
`value:Name@digest`, which is what the case's `impl` holds; `payload(impl)` is the pickle a Job
carries to the worker, where `load` unpickles it. Only the tool writes these payloads, so the
worker trusts them as it trusts the tool's other requests.

The source of the layer's code travels too, where this process can read it (IPython keeps its
cells in `linecache`): the worker puts it in its own `linecache`, so a traceback there shows
the cell's lines and not only their numbers.
"""

from __future__ import annotations

import hashlib
import linecache
import pickle
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

from ..nn.spec import InvalidParameter

PREFIX = "value:"
_payloads: dict[str, bytes] = {}  # label -> pickle, for this process's lifetime


def register(value: type | ModuleType) -> str:
    """Pickle `value` (a class or a module) by value and return its label."""
    module = value if isinstance(value, ModuleType) else sys.modules.get(value.__module__)
    files = {name: f.__code__.co_filename for name, f in _functions(value)}
    try:
        data = _dumps((value, files, _sources(files.values())), module)
    except Exception as error:  # what cloudpickle cannot take: a compiled module, a lock...
        raise InvalidParameter("impl", f"impl={value!r}: cannot be pickled ({error})") from None
    label = f"{PREFIX}{value.__name__}@{hashlib.sha256(data).hexdigest()[:12]}"
    _payloads[label] = data
    return label


def is_label(impl: str) -> bool:
    return impl.startswith(PREFIX)


def payload(impl: str) -> bytes | None:
    """The pickle registered under `impl` in this process, or None."""
    return _payloads.get(impl)


def load(data: bytes) -> Any:
    """In the worker: the class or module, its functions' code named after their files again
    (cloudpickle drops the names), the files' lines put in `linecache`."""
    value, files, sources = pickle.loads(data)
    for name, function in _functions(value):
        if name in files:
            function.__code__ = _renamed(function.__code__, files[name])
    for filename, lines in sources.items():
        linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    return value


def _dumps(value: object, module: ModuleType | None) -> bytes:
    """Pickled by value, and so is what it uses from its own file (a test file's helpers,
    say), which the worker may not be able to import; installed modules go by reference.
    cloudpickle is imported here: the command line never needs it."""
    import cloudpickle

    installed = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib"))
    path = getattr(module, "__file__", None)
    by_value = (
        path is not None and not path.startswith(installed) and module.__name__ in sys.modules
    )
    by_value = by_value and module.__name__ not in cloudpickle.list_registry_pickle_by_value()
    if by_value:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(value)
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(module)


def _sources(filenames: Iterable[str]) -> dict[str, list[str]]:
    """{filename: lines} of the files that only this process can read (a notebook's cells,
    which IPython keeps in `linecache`); files on disk the worker reads itself."""
    return {
        name: lines
        for name in set(filenames)
        if not Path(name).is_file() and (lines := linecache.getlines(name))
    }


def _functions(value: type | ModuleType) -> list[tuple[str, FunctionType]]:
    """The functions and methods `value` defines, by name (one level: what a layer is)."""
    found = []
    for name, member in vars(value).items():
        function = getattr(member, "__func__", member)  # a staticmethod's, a classmethod's
        function = function.fget if isinstance(function, property) else function
        if isinstance(function, FunctionType):
            found.append((name, function))
    return found


def _renamed(code: CodeType, filename: str) -> CodeType:
    """`code` and the code nested in it (inner functions, comprehensions) from `filename`."""
    consts = tuple(_renamed(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)
