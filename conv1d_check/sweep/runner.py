"""Run many cases: shards, parallel jobs, and a results file that survives an interruption.

A sweep is a list of `config.Entry` sorted by id (a single command line is a
sweep of one). `run` runs the entries not yet done, in this process (one job)
or in a pool of worker processes, streams every finished case to the
`--output` JSONL file, and returns the results in id order whatever the
number of jobs.

Results do not depend on the number of jobs: every case runs with torch and
BLAS on one thread (threadpoolctl), in this process and in the workers.
Workers ignore SIGINT, so that Ctrl-C reaches only the parent, which stops the
pool and keeps what has finished.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..check.case import Case
from ..check.verify import CaseResult, check
from .config import Entry
from .results_file import ResultsFile

STARTING = os.path.join("multiprocessing", "process.py")  # where Process.start is


# ---------------------------------------------------------------- shards


def parse_shard(text: str) -> tuple[int, int]:
    """'I/N' as (I, N) with 1 <= I <= N; ValueError with the rule otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"{text!r}: must be I/N with 1 <= I <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def shard(entries: list[Entry], index: int, count: int) -> list[Entry]:
    """Shard `index` of `count` (1-based): the id-sorted cases k with k mod count = index − 1.

    Dealt round-robin rather than cut in blocks, so that every shard gets a
    share of each region of the id order (the large cases, the user-layer ones).
    """
    return sorted(entries, key=lambda e: e.case.id)[index - 1 :: count]


# ---------------------------------------------------------------- running


class Progress:
    """What `run` reports to as it goes (report.SweepProgress shows it); this one is silent."""

    def start(self, total: int) -> None:
        """`total` cases are about to run."""

    def advance(self, result: CaseResult) -> None:
        """One more has finished."""

    def stop(self) -> None:
        """The sweep is over, or interrupted."""


@dataclass
class SweepResult:
    """A sweep's results in id order: those run now and those read back from the file."""

    results: list[CaseResult]
    total: int  # cases in the sweep (this shard)
    seconds: float
    interrupted: bool = False
    resumed: int = 0  # results read back from the --output file
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.interrupted and all(r.passed for r in self.results)


def run(
    entries: list[Entry],
    jobs: int = 1,
    output: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> SweepResult:
    """Run the entries (skips become skip results), streaming each finished one to `output`.

    With `resume`, cases whose id is already in `output` (with the same
    parameters) are not run again; their recorded results count. Ctrl-C stops
    the sweep: the result says `interrupted` and holds what finished.
    """
    start = time.perf_counter()
    sink = ResultsFile(output, resume) if output else None
    done = sink.done(entries) if sink else {}
    resumed = len(done)
    todo = [entry for entry in entries if entry.case.id not in done]
    progress = progress or Progress()
    interrupted = False
    try:
        progress.start(len(todo))
        with closing(_results(todo, jobs)) as results:
            for result in results:
                done[result.id] = result
                if sink:
                    sink.write(result)
                progress.advance(result)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.stop()
        if sink:
            sink.close()
    ordered = [done[entry.case.id] for entry in entries if entry.case.id in done]
    notes = sink.notes if sink else []
    return SweepResult(
        ordered, len(entries), time.perf_counter() - start, interrupted, resumed, notes
    )


def _results(todo: list[Entry], jobs: int) -> Iterator[CaseResult]:
    for entry in todo:
        if entry.skip:
            yield CaseResult(entry.case, "skip", message=entry.skip)
    yield from run_cases([entry.case for entry in todo if not entry.skip], jobs)


def run_cases(cases: list[Case], jobs: int = 1) -> Iterator[CaseResult]:
    """Each case's result as it finishes: in order with one job, as completed with more.

    `jobs` 0 means one per CPU. One job runs here, with torch pinned to one
    thread as in the workers.
    """
    workers = min(jobs or os.cpu_count() or 1, len(cases))
    if workers <= 1:
        with one_thread():
            for case in cases:
                yield check(case)
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
    )
    finished = False
    try:
        futures = [pool.submit(_work, case) for case in cases]
        for future in as_completed(futures):
            yield future.result()
        finished = True
    finally:
        _stop(pool, finished)


@contextmanager
def one_thread() -> Iterator[None]:
    """torch, and the BLAS and OpenMP libraries loaded here, on one thread inside the block.

    The thread count changes the last bits of large sums (dW), so every case runs
    on one thread, here as in the workers.
    """
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(threads)


def _start_worker() -> None:
    """In each worker: Ctrl-C is the parent's business; SIGTERM exits through `finally`
    blocks (so that a user layer's child process is killed); one thread; an end when
    the parent dies; a quick exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGALRM, _exit)  # SIGTERM again, deferred
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)  # for the worker's whole life, as `one_thread` does
    threadpool_limits(limits=1)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    atexit.register(_quick_exit)


def _quick_exit() -> None:
    """The last thing a worker does, once multiprocessing has flushed its queues: skip the
    interpreter's teardown, which with torch loaded takes a third of a second."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def _exit(signum: int, frame: Any) -> None:
    """SIGTERM: leave through the `finally` blocks; but not while a process is being
    started (its forkserver would print a traceback, the child would be orphaned): a
    moment later, then."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "start" and code.co_filename.endswith(STARTING):
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            return
        frame = frame.f_back
    sys.exit(128 + signal.SIGTERM)


def _watch_parent(parent: int) -> None:
    """A worker whose parent was killed (no Ctrl-C, no cleanup) ends, and its layer's child."""
    while os.getppid() == parent:
        time.sleep(0.5)
    for child in multiprocessing.active_children():
        child.kill()
    os._exit(1)


def _work(case: Case) -> CaseResult:
    """`check` in a worker. Stopped by SIGTERM, it leaves at once: the pool's loop would
    catch the SystemExit and take the next case."""
    try:
        return check(case)
    except SystemExit as stop:  # `finally` blocks have run: the layer's process is gone
        os._exit(stop.code)


def _stop(pool: ProcessPoolExecutor, finished: bool) -> None:
    """Shut the pool down; after an interruption, cancel what waits and end the workers."""
    if not finished:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
    pool.shutdown(wait=True)
