"""One job, start to end, the same in every engine: read, run the library, write atomically, report."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from jpegplus.batch.manifest import Record
from jpegplus.batch.naming import STDIO, Job
from jpegplus.batch.options import Operation, Options, transform
from jpegplus.errors import JpegPlusError

log = logging.getLogger(__name__)


def process_job(job: Job, options: Options) -> Record:
    """Run one job and describe the outcome; failures are recorded, never raised (except interrupts).

    Outputs are written with replacement: whether an existing output may be replaced was decided
    for the whole batch before any work (:func:`jpegplus.batch.naming.plan`), and a retried job
    (a restarted worker) must be able to write again what it had written.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    with captured_notes() as notes:
        record = _attempt(job, options)
    return dataclasses.replace(
        record,
        seconds=round(time.perf_counter() - start, 4),
        cpu_seconds=round(time.process_time() - cpu_start, 4),
        worker=f"{socket.gethostname()}:{os.getpid()}",
        notes=tuple(notes),
    )


def _attempt(job: Job, options: Options) -> Record:
    names = str(job.source), str(job.target)
    data = b""
    try:
        data = read_input(job.source)
        product = transform(data, options)
        outputs = [(job.target, product.data)]
        if job.saliency_map is not None:
            outputs.append((job.saliency_map, _saliency_png(data)))
        write_outputs(outputs, job.source)
    except (JpegPlusError, OSError) as error:
        return Record(*names, "failed", len(data), error=describe_error(error, job.source))
    except Exception as error:  # a library bug must not end a million-file batch: recorded, logged
        log.debug("unexpected error on %s", job.source, exc_info=True)
        return Record(*names, "failed", len(data), error=f"{job.source}: unexpected {type(error).__name__}: {error}")
    compressed = len(product.data) if options.operation is Operation.COMPRESS else len(data)
    return Record(*names, "done", len(data), len(product.data), round(compressed * 8 / product.pixels, 4), product.mode)


def read_input(source: Path) -> bytes:
    """An input file's bytes; ``-`` reads standard input."""
    from jpegplus.io import read_file, read_stream

    if source == STDIO:
        return read_stream(sys.stdin.buffer, "standard input")
    return read_file(source)


def write_outputs(outputs: list[tuple[Path, bytes]], source: Path) -> None:
    """Write all outputs or none (``-`` goes to standard output, last)."""
    from jpegplus.io import write_together

    files = [(path, data) for path, data in outputs if path != STDIO]
    write_together(files, force=True, inputs=() if source == STDIO else (source,))
    for path, data in outputs:
        if path == STDIO:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()


def describe_error(error: BaseException, source: Path) -> str:
    """One line naming the input: ``photos/a.png: not an image (...)``."""
    if isinstance(error, JpegPlusError):
        message = str(error)
    elif isinstance(error, OSError):
        message = f"{error.strerror or error}"
    else:
        message = f"{type(error).__name__}: {error}"
    name = "standard input" if source == STDIO else str(source)
    return message if name in message else f"{name}: {message}"


@contextmanager
def captured_notes() -> Iterator[list[tuple[int, str]]]:
    """Collect the jpegplus log records and Python warnings of one job as (level, message).

    The engine's driver logs them (named by file), so a worker process or Ray actor never prints;
    Python warnings (e.g. Pillow's DecompressionBombWarning) count as INFO: shown with ``-v``.
    """
    notes: list[tuple[int, str]] = []
    logger = logging.getLogger("jpegplus")
    saved = logger.propagate, logger.level, logger.handlers
    logger.handlers = [_Collector(notes)]  # only: the CLI's console handler would print each note twice
    logger.propagate, logger.level = False, logging.INFO
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield notes
            finally:
                notes.extend((logging.INFO, f"{w.category.__name__}: {w.message}") for w in caught)
    finally:
        logger.propagate, logger.level, logger.handlers = saved


class _Collector(logging.Handler):
    def __init__(self, notes: list[tuple[int, str]]) -> None:
        super().__init__(logging.INFO)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append((record.levelno, record.getMessage()))


def _saliency_png(data: bytes) -> bytes:
    from jpegplus.io import load_image
    from jpegplus.saliency import saliency_png

    return saliency_png(load_image(data).pixels)
