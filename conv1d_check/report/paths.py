"""Output files, checked before anything runs: a report that cannot be written is found at
once, not after the whole sweep."""

from __future__ import annotations

import os
from pathlib import Path

from ..nn.spec import InvalidParameter


def check_writable(path: Path, param: str) -> None:
    """Raise InvalidParameter(param) unless `path` can be written: a regular file or none, in
    a folder that exists, and opened for writing without changing what it holds."""
    if path.is_dir():
        raise InvalidParameter(param, f"{path} is a directory: give a file's path")
    if path.exists() and not path.is_file():  # a FIFO would block, /dev/full fail at the end
        raise InvalidParameter(param, f"{path}: not a regular file (a pipe or a device)")
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


SUMMARY = "GITHUB_STEP_SUMMARY"  # GitHub's job summary file: the Markdown is appended to it


def summary_file() -> Path | None:
    """The job summary file GitHub names in the environment, if any."""
    summary = os.environ.get(SUMMARY)
    return Path(summary) if summary else None


def check_outputs(outputs: dict[str, Path | None], inputs: list[Path]) -> None:
    """Raise InvalidParameter unless every output (option -> path; the job summary file among
    them) can be written, is a file of its own, and is none of the files the run reads."""
    given = [(name, path) for name, path in outputs.items() if path is not None]
    if (summary := summary_file()) is not None:
        given.append((SUMMARY, summary))
    for number, (name, path) in enumerate(given):
        check_writable(path, name)
        for other, earlier in given[:number]:
            if _same(path, earlier):
                raise InvalidParameter(
                    name, f"{path} is also {other}: give each output a file of its own"
                )
        for source in inputs:
            if _same(path, source):
                raise InvalidParameter(
                    name, f"{path} is the run's own input ({source}): write elsewhere"
                )


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name one file (the same inode, or the same path once resolved)."""
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist yet
        return os.path.realpath(a) == os.path.realpath(b)
