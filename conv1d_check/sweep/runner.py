"""Run a plan's cases: in this process or in worker processes, streaming every finished case to
the results file, stopping on Ctrl-C or after --max-failures.

Results do not depend on the number of jobs: every case runs with torch and BLAS on one thread
(threadpoolctl), here as in the workers. A worker costs an interpreter and torch's import
(about a second; the workers start side by side, and with several jobs this process never
imports torch), so `worker_count` runs a sweep too small to pay for that in this process.

Workers ignore SIGINT: Ctrl-C reaches the parent, which kills them and keeps what finished. A
worker's user-layer processes end with it (they watch a pipe it holds), and a worker ends with
the parent (a thread watches for it).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing
from multiprocessing import resource_tracker
from pathlib import Path
from typing import NamedTuple

from ..check.case import Case
from ..check.result import CaseResult, RunResult, Status
from ..check.torch_side import one_thread, pin_for_good
from ..check.verify import run_case
from ..usercode import isolation
from ..usercode.protocol import BUILTIN
from .config import Entry
from .plan import Plan
from .results_file import ResultsFile

# A sweep's estimated seconds of work below which workers do not pay: about what starting them
# (an interpreter and torch's import each, side by side) costs beyond what one job pays anyway.
WORTH_WORKERS = 1.5
# How long a sweep's workers wait for each other to start (an interpreter each: seconds on a
# busy machine) before the pool is given up as broken.
START_SECONDS = 300.0
# Estimated seconds of one case: the tool's own work (three oracle runs and torch's, the
# comparison) plus the elements of x and y at the built-in layer's pace; a user layer's
# process adds its round trip. Measured with benchmarks/sweep_bench.py on this kind of machine.
CASE_SECONDS, ELEMENT_SECONDS, USER_LAYER_SECONDS = 0.004, 2e-8, 0.004


class Progress:
    """What `run` reports to as it goes (report.progress.SweepProgress shows it)."""

    def start(self, total: int) -> None:
        """`total` cases are about to run."""

    def advance(self, result: CaseResult) -> None:
        """One more has finished."""

    def stop(self) -> None:
        """The sweep is over, or interrupted."""


class Workers(NamedTuple):
    """How many processes run the cases, and why not what was asked for (or "")."""

    count: int
    note: str


def worker_count(jobs: int, entries: list[Entry]) -> Workers:
    """--jobs (0: one per CPU), capped at the CPUs and at the cases, and 1 for a sweep whose
    work would not pay for workers."""
    cpus = os.cpu_count() or 1
    cases = [entry.case for entry in entries if not entry.skip]
    count, note = jobs or cpus, ""
    if count > cpus:
        count, note = cpus, f"--jobs {jobs}: this machine has {cpus} CPU(s); using {cpus}"
    count = max(1, min(count, len(cases)))
    if count > 1 and sum(map(estimated_seconds, cases)) < WORTH_WORKERS:
        count = 1  # silently: one job is simply the faster way
    return Workers(count, note)


def estimated_seconds(case: Case) -> float:
    """A rough cost of checking `case`, to decide whether workers pay."""
    extra = 0.0 if case.impl == BUILTIN else USER_LAYER_SECONDS
    return CASE_SECONDS + extra + ELEMENT_SECONDS * case.elements * case.kernel_size


def run(
    plan: Plan,
    jobs: int = 1,
    output: Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
    max_failures: int | None = None,
) -> RunResult:
    """Run the plan's entries (skips become skip results), streaming each finished one to
    `output`. With `resume`, cases already in `output` (with the same parameters) are not run
    again; their recorded results count. Ctrl-C stops the sweep (`interrupted`); so does the
    `max_failures`-th failing case (`stopped`). Either way the result holds what finished.
    """
    start = time.perf_counter()
    entries = plan.entries
    sink = ResultsFile(output, resume, plan.stamp) if output else None
    done = sink.done(entries) if sink else {}
    resumed = len(done)
    todo = [entry for entry in entries if entry.case.id not in done]
    progress = progress or Progress()
    interrupted = stopped = False
    failures = sum(r.status in (Status.FAIL, Status.ERROR) for r in done.values())
    workers: set[int] = set()
    try:
        progress.start(len(todo))
        with closing(_results(todo, jobs)) as results:
            for pid, result in results:
                workers.add(pid)
                done[result.id] = result
                if sink:
                    sink.write(result)
                progress.advance(result)
                failures += result.status in (Status.FAIL, Status.ERROR)
                if max_failures is not None and failures >= max_failures:
                    stopped = True
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.stop()
        if sink:
            sink.close()
        isolation.close_all()
    ordered = [done[entry.case.id] for entry in entries if entry.case.id in done]
    return RunResult(
        ordered,
        len(entries),
        time.perf_counter() - start,
        interrupted=interrupted,
        stopped=stopped,
        resumed=resumed,
        notes=sink.notes if sink else [],
        workers=len(workers - {None}),
    )


def _results(todo: list[Entry], jobs: int) -> Iterator[tuple[int | None, CaseResult]]:
    for entry in todo:
        if entry.skip:
            yield None, CaseResult(entry.case, Status.SKIP, message=entry.skip)
    yield from run_cases([entry.case for entry in todo if not entry.skip], jobs)


def run_cases(cases: list[Case], jobs: int = 1) -> Iterator[tuple[int, CaseResult]]:
    """Each case's result as it finishes, with the pid of the process that ran it: in order
    with one job, as completed with more. One job runs here, with torch pinned to one thread
    as in the workers."""
    if jobs <= 1 or len(cases) <= 1:
        with one_thread():
            for case in cases:
                yield os.getpid(), run_case(case)
        return
    context = _context()
    _tracker_of_its_own()
    stop = context.Event()
    count = min(jobs, len(cases))
    pool = ProcessPoolExecutor(
        count,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), stop, context.Barrier(count)),
    )
    try:
        futures = [pool.submit(_run_in_worker, case) for case in cases]
        for future in as_completed(futures):
            yield future.result()
    finally:  # done, interrupted or stopped: cancel what waits, end the workers at once
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _run_in_worker(case: Case) -> tuple[int, CaseResult]:
    """A case's result, and which worker process ran it."""
    return os.getpid(), run_case(case)


def _context() -> multiprocessing.context.BaseContext:
    """spawn: each worker a fresh interpreter that imports torch itself, the workers side by
    side, while this process never imports it. fork would be unsafe beside torch's threads;
    a forkserver with torch preloaded imports it once but one worker after the other, and
    leaves its socket behind in the temp folder when the tool is killed."""
    return multiprocessing.get_context("spawn")


def _tracker_of_its_own() -> None:
    """Start multiprocessing's resource tracker in a session of its own, before the pool needs
    one. It unlinks the pool's named semaphores (/dev/shm/sem.mp-*) once every process of the
    run is gone; started as multiprocessing starts it, a SIGKILL of the tool's process group (a
    CI timeout) killed it too, and they stayed for good. It reads a pipe that the tool and the
    pool's workers hold, and ends at its end. Spawned as multiprocessing spawns it, by pid: a
    Popen object would warn at exit that it still runs, which it must. (multiprocessing has no
    public way to set where its tracker runs: `_fd` and `_pid` are what `ensure_running` sets.)"""
    tracker = resource_tracker._resource_tracker
    if tracker._fd is not None:
        return
    read, write = os.pipe()
    os.set_inheritable(read, True)
    quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    pid = os.posix_spawn(  # stderr too: its warning of leaked semaphores after a kill
        sys.executable,
        [sys.executable, "-c", f"from multiprocessing.resource_tracker import main; main({read})"],
        os.environ,
        file_actions=quiet,
        setsid=True,
    )
    os.close(read)
    tracker._fd, tracker._pid = write, pid


def _start_worker(parent: int, stop: threading.Event, started: threading.Barrier) -> None:
    """In each worker: Ctrl-C is the parent's business; one thread; an end when the parent
    sets `stop`, or is gone; and no case before every worker has started, so that all take
    part (the worker that started first took every case of a quick sweep). The pool
    starts its workers as the cases are submitted, all at once, so all of them come."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pin_for_good()  # torch too, once a case imports it
    threading.Thread(target=_watch, args=(parent, stop), daemon=True).start()
    started.wait(START_SECONDS)


def _watch(parent: int, stop: threading.Event) -> None:
    """Exit when told to, or once the parent is gone (killed, with no chance to tell us). A
    case in progress is abandoned; our user layers' processes follow us, since they watch a
    pipe we hold."""
    while not stop.wait(0.2):
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            break
    os._exit(1)
