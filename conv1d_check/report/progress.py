"""A sweep's progress on stderr, as it runs."""

from __future__ import annotations

import sys
import time
from collections import Counter

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..check.result import CaseResult, Status


class SweepProgress:
    """A sweep's progress on stderr: a rich bar on a terminal. In a log (no terminal), a
    plain line at each tenth of the way (`gap` seconds apart at least), and one every
    `every` seconds however slow it goes."""

    def __init__(self, console: Console | None = None, every: float = 30.0, gap: float = 5.0):
        self.console = console or Console(stderr=True)
        self.every, self.gap = every, gap
        self.bar: Progress | None = None
        self.counts: Counter[Status] = Counter()

    def start(self, total: int) -> None:
        self.total, self.done, self.tenths = total, 0, 0
        self.started = self.last = time.monotonic()
        if total > 1 and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self._tally(), total=total)

    def advance(self, result: CaseResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=self._tally())
            return
        now, tenths = time.monotonic(), 10 * self.done // max(self.total, 1)
        quiet_for = now - self.last
        if self.total > 1 and (
            (tenths > self.tenths and quiet_for >= self.gap) or quiet_for >= self.every
        ):
            self.tenths, self.last = tenths, now
            share = 100 * self.done // self.total
            print(
                f"conv1d-check: {self.done}/{self.total} cases ({share}%), {self._tally()}, "
                f"{now - self.started:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def _tally(self) -> str:
        return ", ".join(f"{self.counts[s]} {s}" for s in (Status.FAIL, Status.ERROR, Status.SKIP))
