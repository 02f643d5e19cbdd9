"""A JPEG that lacks only its end-of-image marker: what a camera or a download cut just short of the last two bytes
leaves. libjpeg, djpeg and OpenCV decode it whole (with a warning); Pillow calls it truncated."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import jpeglib

from jpegplus.codecs.jpeg.markers import EOI, coefficient_stream, scans_finish_every_coefficient
from jpegplus.stderr import captured_stderr, one_line

log = logging.getLogger(__name__)

END = bytes((0xFF, EOI))


def completed(data: bytes) -> bytes | None:
    """``data`` with the end-of-image marker it lacks when nothing else is missing, else ``None``.

    Nothing else is missing when its scans bring every coefficient to full precision (a progressive file cut
    between two scans decodes without a word, only blurred) and libjpeg decodes the last scan without running
    out of data ("premature end of data segment": a file cut inside a scan, whose rest libjpeg fills with gray).
    """
    stream = coefficient_stream(data)
    if data.endswith(END) or stream is None or not scans_finish_every_coefficient(data):
        return None
    with tempfile.TemporaryDirectory() as folder, captured_stderr() as messages:
        path = Path(folder) / "ended.jpg"
        path.write_bytes(stream + END)
        try:
            jpeglib.read_dct(str(path)).load()
        except (OSError, RuntimeError, ValueError, IndexError):
            return None
    if messages.getvalue():
        log.info("libjpeg on a JPEG without its end marker: %s", one_line(messages))
        return None
    return data + END
