"""``jpegplus.batch.run``: plan, skip what is finished, run an engine, record every input."""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from jpegplus.batch.manifest import Manifest, Record, Summary
from jpegplus.batch.naming import STDIO, Job, plan
from jpegplus.batch.options import Options
from jpegplus.errors import InvalidOptionError, OutputError


class Engine(str, enum.Enum):
    """Where the jobs run."""

    LOCAL = "local"  # this machine: one process, or --jobs worker processes
    RAY = "ray"  # a Ray cluster (Ray Data actors), local or at --address


def run(
    sources: list[Path],
    options: Options,
    *,
    output: Path | None = None,
    out_dir: Path | None = None,
    saliency_map: Path | None = None,
    force: bool = False,
    skip_existing: bool = False,
    engine: Engine = Engine.LOCAL,
    jobs: int | None = None,
    threads: int | None = None,
    address: str | None = None,
    workers: int | None = None,
    on_record: Callable[[Record], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Summary:
    """Process files and folders; with ``out_dir`` a JSON-lines manifest there records every input.

    Nothing is written unless the plan is sound: two outputs that would coincide, an output that
    is an input, or (without ``force`` or ``skip_existing``) outputs that already exist stop it
    first. A failed file is recorded and the batch goes on; ``Summary.failed`` counts them.
    ``on_start`` gets the number of inputs, ``on_record`` each record as it is made.
    The local engine runs ``jobs`` worker processes (default: one per core; 1: this process) of
    ``threads`` torch threads each; the Ray engine runs ``workers`` actors at ``address``.

    >>> from jpegplus.batch import Operation, Options
    >>> run([Path("photos")], Options(Operation.COMPRESS), out_dir=Path("packed"))  # doctest: +SKIP
    Summary(done=24, failed=0, skipped=0, ...)
    """
    if force and skip_existing:
        msg = "give --force (replace existing outputs) or --skip-existing (keep them), not both"
        raise InvalidOptionError(msg)
    if engine is Engine.RAY and (STDIO in sources or output == STDIO):
        msg = "'-' (standard input or output) works with the local engine only"
        raise InvalidOptionError(msg)
    planned = plan(sources, options, output=output, out_dir=out_dir, saliency_map=saliency_map)
    if planned.existing and not (force or skip_existing):
        more = f" (and {len(planned.existing) - 1} more outputs)" if len(planned.existing) > 1 else ""
        msg = f"{planned.existing[0].target} exists{more}; pass --force to replace or --skip-existing to keep"
        raise OutputError(msg)
    todo = planned.jobs + (planned.existing if force else [])
    summary = Summary(ignored=planned.ignored)
    if on_start is not None:
        on_start(len(todo) + len(planned.existing) * skip_existing)
    with Manifest(out_dir) if out_dir is not None else nullcontext() as manifest:

        def record(entry: Record) -> None:
            summary.add(entry)
            if manifest is not None:
                manifest.add(entry)
            if on_record is not None:
                on_record(entry)

        for job in planned.existing if skip_existing else []:
            record(_skipped(job))
        if out_dir is not None:
            for folder in sorted({job.target.parent for job in todo}):
                folder.mkdir(parents=True, exist_ok=True)
        try:
            if engine is Engine.RAY:
                from jpegplus.batch.ray_engine import run_ray

                run_ray(todo, options, record, address=address, workers=workers)
            elif todo:
                from jpegplus.batch.local import run_local

                run_local(todo, options, record, processes=jobs, threads=threads)
        finally:
            from jpegplus.io import remove_leftovers

            remove_leftovers(
                path for job in todo for path in (job.target, job.saliency_map) if path not in (None, STDIO)
            )
    return summary


def _skipped(job: Job) -> Record:
    return Record(str(job.source), str(job.target), "skipped", bytes_out=job.target.stat().st_size)
