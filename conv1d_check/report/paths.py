"""Output files, checked before anything runs: a report that cannot be written is found at
once, not after the whole sweep."""

from __future__ import annotations

import os
from pathlib import Path

from ..nn.spec import InvalidParameter


def check_writable(path: Path, param: str) -> None:
    """Raise InvalidParameter(param) unless `path` can be written: not a directory, in a folder
    that exists, and opened for writing without changing what it holds."""
    if path.is_dir():
        raise InvalidParameter(param, f"{path} is a directory: give a file's path")
    if not path.parent.is_dir():
        raise InvalidParameter(param, f"{path}: there is no folder {path.parent}")
    existed = path.exists()
    try:
        with path.open("a"):
            pass
    except OSError as error:
        raise InvalidParameter(param, f"{path}: cannot write it: {error.strerror}") from None
    if not existed:
        os.unlink(path)
