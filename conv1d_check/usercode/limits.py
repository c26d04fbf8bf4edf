"""The resources a user's layer may take: memory and time."""

from __future__ import annotations

import math
import os


def default_memory_limit() -> int:
    """Half of this machine's memory, in bytes: the default limit of a user layer's process."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2


UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_bytes(count: float) -> str:
    """1536 -> '1.5 KiB': a size for a person."""
    power = min(int(math.log(max(count, 1), 1024)), len(UNITS) - 1)
    return f"{count / 1024**power:.3g} {UNITS[power]}"
