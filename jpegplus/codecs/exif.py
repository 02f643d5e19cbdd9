"""EXIF blocks as bytes: checked, read by Pillow, and their orientation changed in place.

Pillow re-serialises an EXIF block it edits, which loses the thumbnail (IFD1) and breaks maker notes (their
offsets point into the old layout); so the orientation is patched in the original bytes where it can be.
"""

from __future__ import annotations

import logging
import struct
import warnings

from PIL import Image

log = logging.getLogger(__name__)

EXIF_PREFIX = b"Exif\0\0"  # how EXIF starts in a JPEG APP1 segment and in Pillow's ``info``
TIFF_HEADERS = (b"II*\0", b"MM\0*")
ORIENTATION = 0x0112
SHORT = 3  # TIFF field type of the orientation value


def usable_exif(exif: bytes) -> bytes | None:
    """``exif`` in Pillow's form (``Exif\\0\\0`` + TIFF), or ``None`` with a warning when it is malformed."""
    if exif_tags(exif) is None:
        log.warning("EXIF that is not a readable TIFF structure is left out")
        return None
    return EXIF_PREFIX + exif.removeprefix(EXIF_PREFIX)


def exif_tags(exif: bytes) -> Image.Exif | None:
    """Pillow's reading of an EXIF block (with or without ``Exif\\0\\0``), or ``None`` when it is malformed."""
    if exif.removeprefix(EXIF_PREFIX)[:4] not in TIFF_HEADERS:
        return None
    tags = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow warns, rather than raises, about truncated fields
            tags.load(exif)
            tags.tobytes()  # what Pillow's AVIF writer does with it
    except Exception:  # Pillow's TIFF reader fails in many ways on hostile bytes
        return None
    return tags


def _orientation_entry(tiff: bytes | bytearray) -> tuple[str, int, int] | None:
    """(byte order, offset of IFD0's entry count, offset of its orientation entry) of a TIFF block whose
    orientation is one SHORT, else ``None``."""
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for entry in range(offset + 2, offset + 2 + 12 * count, 12):
            tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
            if tag == ORIENTATION and kind == SHORT and number == 1:
                return order, offset, entry
    except struct.error:
        pass
    return None


def orientation_one(exif: bytes) -> bytes:
    """``exif`` saying orientation 1: the value patched in place (every other byte kept), else re-serialised."""
    tiff = bytearray(exif.removeprefix(EXIF_PREFIX))
    if found := _orientation_entry(tiff):
        order, _, entry = found
        struct.pack_into(order + "H", tiff, entry + 8, 1)
        return EXIF_PREFIX + bytes(tiff)
    tags = exif_tags(exif)
    if tags is None:
        return exif
    tags[ORIENTATION] = 1
    return tags.tobytes()


def without_orientation(exif: bytes) -> bytes:
    """``exif`` with no orientation entry, every other byte where it was: Pillow's AVIF writer moves an orientation
    into AVIF's own boxes and re-serialises the rest, which loses the thumbnail and breaks maker notes. The
    later entries of IFD0 and its next-directory offset move up by one entry; nothing points into that table."""
    tiff = bytearray(exif.removeprefix(EXIF_PREFIX))
    found = _orientation_entry(tiff)
    if found is None:
        return exif
    order, offset, entry = found
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    table_end = offset + 2 + 12 * count + 4  # the entries and the next IFD's offset
    tiff[entry : table_end - 12] = tiff[entry + 12 : table_end]
    tiff[table_end - 12 : table_end] = bytes(12)
    struct.pack_into(order + "H", tiff, offset, count - 1)
    return EXIF_PREFIX + bytes(tiff)
