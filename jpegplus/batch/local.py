"""The local engine: jobs in this process, or spread over worker processes that share the cores."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from jpegplus.batch.manifest import Record
from jpegplus.batch.naming import Job
from jpegplus.batch.options import Options
from jpegplus.batch.worker import process_job


def cores() -> int:
    """The cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def run_local(
    jobs: list[Job],
    options: Options,
    on_record: Callable[[Record], None],
    *,
    processes: int | None = None,
    threads: int | None = None,
) -> None:
    """Run ``jobs`` and hand each record to ``on_record`` as it finishes (in this thread).

    ``processes=1`` (or a single job) runs in this process with torch's own thread count;
    more run that many spawned worker processes (default: one per core) of ``threads`` torch
    threads each (default: the cores shared out, at least one).
    """
    count = min(processes or cores(), len(jobs))
    if count <= 1:
        for job in jobs:
            on_record(process_job(job, options))
        return
    context = multiprocessing.get_context("spawn")  # torch and fork do not mix
    share = threads or max(1, cores() // count)
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker, initargs=(share,)) as pool:
        for job, result in _bounded(pool, jobs, options, in_flight=2 * count):
            on_record(result if isinstance(result, Record) else _died(job))


def _bounded(
    pool: ProcessPoolExecutor, jobs: list[Job], options: Options, *, in_flight: int
) -> Iterator[tuple[Job, Record | None]]:
    """Results in completion order, keeping at most ``in_flight`` jobs queued (a million jobs stay cheap)."""
    waiting = iter(jobs)
    running: dict[Future[Record], Job] = {}
    broken = False
    while True:
        while not broken and len(running) < in_flight and (job := next(waiting, None)) is not None:
            try:
                running[pool.submit(process_job, job, options)] = job
            except BrokenProcessPool:
                broken = True
                yield job, None
        if not running:
            if broken:
                yield from ((job, None) for job in waiting)
            return
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            job = running.pop(future)
            try:
                yield job, future.result()
            except BrokenProcessPool:
                broken = True
                yield job, None


def _died(job: Job) -> Record:
    return Record(str(job.source), str(job.target), "failed", error=f"{job.source}: a worker process died")


def _start_worker(threads: int) -> None:
    import torch

    from jpegplus.heap import return_big_blocks

    return_big_blocks()
    torch.set_num_threads(threads)
