"""Keep what C libraries print on the process's stderr out of the user's terminal."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.RLock()  # file descriptor 2 is one per process


@contextmanager
def captured_stderr() -> Iterator[io.StringIO]:
    """Redirect file descriptor 2 (where libjpeg writes its warnings) into the yielded buffer.

    The buffer is filled when the block ends; Python's own ``sys.stderr`` is flushed first so
    nothing of the program's output is swallowed.
    """
    messages = io.StringIO()
    with _LOCK, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield messages
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            messages.write(sink.read().decode("utf-8", "replace"))


def one_line(messages: io.StringIO) -> str:
    """What a C library printed, its lines joined by " / ", for one log record."""
    return " / ".join(messages.getvalue().split("\n")).strip(" /")
