"""Text as the reports write it: figures in one format, and a user's layer's text made safe to
show (no terminal escapes, nothing XML forbids)."""

from __future__ import annotations

import math
import re

# C0 and C1 control characters and DEL, but for tab and newline: escapes, BEL, NUL, \r...
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What XML 1.0 forbids: the C0 controls but tab, newline and carriage return; lone surrogates;
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def number(value: float) -> str:
    """A measured figure as the reports show it: three significant digits, or inf / nan."""
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def for_terminal(text: str) -> str:
    """`text` with every control character shown as an escape (ESC as \\x1b), so that a
    layer's output cannot move the cursor, clear the screen or ring the bell."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def for_xml(text: str) -> str:
    """`text` with the characters XML 1.0 forbids replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
