"""An error that escapes the tool: a bug of ours, never a verdict on the layer. One line on
stderr says so and where its traceback was written, and the exit code is INTERNAL, so that CI
tells a crash of the tool from a failing layer (pytest uses 3 for its internal errors too)."""

from __future__ import annotations

import tempfile
import traceback

import typer

INTERNAL = 3


def internal_error(error: BaseException) -> int:
    """Write `error`'s traceback to a file of its own, say so in one line; INTERNAL."""
    text = "".join(traceback.format_exception(error))
    try:
        with tempfile.NamedTemporaryFile(
            "w", prefix="conv1d-check-crash-", suffix=".txt", delete=False
        ) as stream:
            stream.write(text)
        where = f"the traceback is in {stream.name}"
    except OSError:
        where = "the traceback could not be written to a file"
    summary = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    typer.echo(
        f"Internal error: conv1d-check itself failed, sorry ({summary}); {where}. "
        "This says nothing about your layer: please report it.",
        err=True,
    )
    return INTERNAL
