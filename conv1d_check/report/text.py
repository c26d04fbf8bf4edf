"""Text as the reports write it: figures in one format, and a user's layer's text made safe to
show (no terminal escapes, no HTML or Markdown that acts, nothing XML forbids)."""

from __future__ import annotations

import math
import re

# C0 and C1 control characters and DEL, but for tab and newline: escapes, BEL, NUL, \r...;
# the bidirectional controls, which can make text read other than it is; lone surrogates, which
# no encoder takes.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# What XML 1.0 forbids: the C0 controls but tab, newline and carriage return; lone surrogates;
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What Markdown or HTML would act on: tags and entities, links and images, emphasis, code.
_MARKDOWN = re.compile(r"[<>&\[\]!`*_~|\\]")


def number(value: float) -> str:
    """A measured figure as the reports show it: three significant digits, or inf / nan."""
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def for_terminal(text: str) -> str:
    """`text` with every control character shown as an escape (ESC as \\x1b, U+202E as
    \\u202e), so that a layer's output cannot move the cursor, clear the screen, ring the bell
    or turn text around."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_markdown(text: str) -> str:
    """`text` as Markdown that shows it as it is: controls escaped as for the terminal, and
    every character that would make a tag, a link, an image or emphasis backslash-escaped."""
    return _MARKDOWN.sub(lambda m: "\\" + m.group(), for_terminal(text))


def for_xml(text: str) -> str:
    """`text` with the characters XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
