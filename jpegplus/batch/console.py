"""What a person sees of a run: one rich console on stderr for the progress bar, log lines and errors.

Everything goes through the same console, so an error or a warning is printed above the progress
bar, never onto it. Lines read ``jpegplus: error: …`` / ``jpegplus: warning: …``, one per event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from jpegplus.batch.manifest import Record

console = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger("jpegplus.batch")

QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2
LEVELS = {QUIET: logging.ERROR, NORMAL: logging.WARNING, VERBOSE: logging.INFO, DEBUG: logging.DEBUG}


def say(kind: str, message: str) -> None:
    """One line on stderr: ``jpegplus: KIND: MESSAGE``."""
    console.print(f"jpegplus: {kind}: {message}", markup=False)


class ConsoleHandler(logging.Handler):
    """Log records as ``jpegplus: LEVEL: message`` lines on the shared console."""

    def emit(self, record: logging.LogRecord) -> None:
        say(record.levelname.lower(), record.getMessage())


def configure_logging(verbosity: int) -> None:
    """jpegplus's log lines at the level of ``-q``/``-v``; Python warnings (Pillow's, torch's) only with ``-v``."""
    logging.captureWarnings(True)
    for name, level in (("jpegplus", LEVELS[verbosity]), ("py.warnings", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers = [ConsoleHandler()]
        logger.setLevel(level if name == "jpegplus" or verbosity >= VERBOSE else logging.CRITICAL + 1)
        logger.propagate = False


def report(record: Record) -> None:
    """A finished job's notes (at their level) and, if it failed, its one error line."""
    for level, message in record.notes:
        log.log(level, "%s: %s", record.input, message)
    if record.error:
        say("error", record.error)


class Display:
    """A transient progress bar: files of a batch, and tiles of a large image run in this process."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not (enabled and console.is_terminal),
        )
        self.files = self.progress.add_task("files", visible=False, start=False)
        self.tiles = self.progress.add_task("tiles", visible=False)

    def start(self, total: int) -> None:
        """The batch has ``total`` files (the bar shows from two)."""
        self.progress.update(self.files, total=total, visible=total > 1)
        self.progress.start_task(self.files)

    def finished(self, record: Record) -> None:
        """One more file done (or failed, or skipped)."""
        self.progress.advance(self.files)
        self.progress.update(self.tiles, visible=False)
        report(record)

    def tile(self, done: int, total: int) -> None:
        """A network pass over a large image reached tile ``done`` of ``total``."""
        self.progress.update(self.tiles, completed=done, total=total, visible=total > 1)

    @contextmanager
    def shown(self, *, tiles: bool) -> Iterator[Display]:
        """Show the bar while the block runs; with ``tiles``, follow the network's tiles in this process."""
        with self.progress:
            if not tiles:
                yield self
                return
            from jpegplus.inference import tile_progress

            token = tile_progress.set(self.tile)
            try:
                yield self
            finally:
                tile_progress.reset(token)
