"""The Ray engine: the same jobs on Ray Data actors, each loading the networks once.

The jobs (input and output paths) become a Ray dataset; ``map_batches`` runs them on a fixed
pool of actors, one file per batch. Each actor reads its input, runs the library and writes the
output atomically through :func:`jpegplus.batch.worker.process_job`, exactly as a local worker
does, so both engines write the same files. Paths must mean the same file on every node: local
folders on one machine, a shared mount (NFS, or object storage through a FUSE mount) on a cluster.

Ray restarts an actor that dies and retries its batches (Ray Data's defaults for actor pools), and
a retried job writes its output again; the driver receives one record per job.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from jpegplus.batch.manifest import Record
from jpegplus.batch.naming import Job
from jpegplus.batch.options import Options
from jpegplus.batch.worker import process_job

MAX_BLOCKS = 10_000  # blocks of the job list: a retry after a crash redoes at most one block's files
THREADS_PER_ACTOR = 1  # each actor takes one CPU of the cluster; Ray runs one actor per core


class JobActor:
    """A Ray Data worker: set up once per actor, then one batch of jobs per call."""

    def __init__(self, options: Options) -> None:
        import torch

        torch.set_num_threads(THREADS_PER_ACTOR)
        self.options = options

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        records = [
            process_job(Job(Path(str(source)), Path(str(target)), Path(str(extra)) if extra else None), self.options)
            for source, target, extra in zip(batch["source"], batch["target"], batch["saliency_map"], strict=True)
        ]
        return {"record": [record.to_json() for record in records]}


def run_ray(
    jobs: list[Job],
    options: Options,
    on_record: Callable[[Record], None],
    *,
    address: str | None = None,
    workers: int | None = None,
) -> None:
    """Run ``jobs`` on Ray: at ``address`` (``auto``, ``ray://HOST:10001``), else the running or a new local Ray.

    ``workers`` actors (default: one per CPU of the cluster). A Ray this call starts, it stops.
    """
    if not jobs:
        return
    import ray

    quiet = logging.ERROR if logging.getLogger("jpegplus").getEffectiveLevel() > logging.INFO else logging.WARNING
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=quiet)
    logging.getLogger("ray").setLevel(quiet)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the command line shows its own
        logging.getLogger("ray.data").setLevel(quiet)
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // THREADS_PER_ACTOR)
        # Absolute paths: an actor's working folder is not the driver's on another node.
        named = {(str(job.source.absolute()), str(job.target.absolute())): job for job in jobs}
        rows = [
            {
                "source": source,
                "target": target,
                "saliency_map": str(job.saliency_map.absolute()) if job.saliency_map else "",
            }
            for (source, target), job in named.items()
        ]
        dataset = ray.data.from_items(rows, override_num_blocks=min(len(rows), MAX_BLOCKS))
        results = dataset.map_batches(
            JobActor,
            fn_constructor_kwargs={"options": options},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=min(count, len(rows))),
            num_cpus=THREADS_PER_ACTOR,
        )
        for row in results.iter_rows():
            record = Record.from_json(row["record"])
            job = named[record.input, record.output]
            error = record.error and record.error.replace(record.input, str(job.source))
            on_record(dataclasses.replace(record, input=str(job.source), output=str(job.target), error=error))
    finally:
        if started:
            ray.shutdown()
