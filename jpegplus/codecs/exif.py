"""EXIF blocks as bytes: checked, read by Pillow, and their orientation changed in place.

Pillow re-serialises an EXIF block it edits, which loses the thumbnail (IFD1) and breaks maker notes (their
offsets point into the old layout); so the orientation is patched in the original bytes where it can be.
"""

from __future__ import annotations

import logging
import struct
import warnings
from collections.abc import Mapping
from typing import Any

from PIL import Image

log = logging.getLogger(__name__)

EXIF_PREFIX = b"Exif\0\0"  # how EXIF starts in a JPEG APP1 segment and in Pillow's ``info``
TIFF_HEADERS = (b"II*\0", b"MM\0*")
ORIENTATION = 0x0112
SHORT = 3  # TIFF field type of the orientation value
EXIF_DIRECTORY = 0x8769  # IFD0's pointer to the Exif directory
PIXEL_WIDTH, PIXEL_HEIGHT = 0xA002, 0xA003  # the Exif directory's size of the picture (SHORT or LONG, inline)
THUMBNAIL_START, THUMBNAIL_LENGTH = 0x0201, 0x0202  # IFD1's JPEG thumbnail (JPEGInterchangeFormat[Length])
LONG = 4
X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128  # IFD0's (and a TIFF's) pixel density
INCHES, CENTIMETRES = 2, 3  # ResolutionUnit values (1: no unit, an aspect ratio); inches when the tag is absent


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


def _byte_order(tiff: bytes | bytearray) -> str:
    return "<" if tiff[:2] == b"II" else ">"


def _first_directory(tiff: bytes | bytearray) -> int:
    """Offset of IFD0; :class:`struct.error` when the block is too short to say."""
    (offset,) = struct.unpack_from(_byte_order(tiff) + "I", tiff, 4)
    return int(offset)


def _entry(tiff: bytes | bytearray, directory: int, wanted: int) -> tuple[int, int, int] | None:
    """(offset, field type, value count) of tag ``wanted``'s entry in the directory at ``directory``, or ``None``;
    :class:`struct.error` when the block is too short for what it says."""
    order = _byte_order(tiff)
    (count,) = struct.unpack_from(order + "H", tiff, directory)
    for entry in range(directory + 2, directory + 2 + 12 * count, 12):
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
        if tag == wanted:
            return entry, kind, number
    return None


def _orientation_entry(tiff: bytes | bytearray) -> tuple[str, int, int] | None:
    """(byte order, offset of IFD0's entry count, offset of its orientation entry) of a TIFF block whose
    orientation is one SHORT, else ``None``."""
    order = _byte_order(tiff)
    try:
        offset = _first_directory(tiff)
        found = _entry(tiff, offset, ORIENTATION)
    except struct.error:
        return None
    return (order, offset, found[0]) if found and found[1:] == (SHORT, 1) else None


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


def for_pillow_writer(exif: bytes | None, pillow_format: str) -> bytes | None:
    """The EXIF to hand Pillow's writer of ``pillow_format`` for upright pixels: the AVIF writer gets none with an
    orientation entry (it would move it into AVIF's rotation box and re-serialise the rest), the others ``exif``."""
    return without_orientation(exif) if exif and pillow_format == "AVIF" else exif


def with_sizes_swapped(exif: bytes) -> bytes:
    """``exif`` for its picture turned a quarter: the Exif directory's pixel width and height (PixelXDimension,
    PixelYDimension) trade places in the bytes (each entry's type, count and value), everything else kept."""
    tiff = bytearray(exif.removeprefix(EXIF_PREFIX))
    order = _byte_order(tiff)
    try:
        pointer = _entry(tiff, _first_directory(tiff), EXIF_DIRECTORY)
        if pointer is None:
            return exif
        (directory,) = struct.unpack_from(order + "I", tiff, pointer[0] + 8)
        width, height = _entry(tiff, directory, PIXEL_WIDTH), _entry(tiff, directory, PIXEL_HEIGHT)
    except struct.error:
        return exif
    if width is None or height is None:
        return exif
    (a, _, _), (b, _, _) = width, height
    tiff[a + 2 : a + 12], tiff[b + 2 : b + 12] = tiff[b + 2 : b + 12], tiff[a + 2 : a + 12]
    return EXIF_PREFIX + bytes(tiff)


def thumbnail(exif: bytes) -> bytes | None:
    """The JPEG thumbnail of ``exif``'s IFD1, or ``None`` when it has none that its offsets hold whole."""
    found = _thumbnail_entries(bytearray(exif.removeprefix(EXIF_PREFIX)))
    return None if found is None else found[0]


def with_thumbnail(exif: bytes, jpeg: bytes) -> bytes:
    """``exif`` with its IFD1 thumbnail replaced by ``jpeg``: written where the old one was when it fits there or
    ends the block, else after the block (offsets stay even), every other byte kept."""
    tiff = bytearray(exif.removeprefix(EXIF_PREFIX))
    found = _thumbnail_entries(tiff)
    if found is None:
        return exif
    old, start_entry, length_entry = found
    order = _byte_order(tiff)
    (start,) = struct.unpack_from(order + "I", tiff, start_entry + 8)
    if start + len(old) == len(tiff):
        tiff[start:] = jpeg
    elif len(jpeg) <= len(old):
        tiff[start : start + len(old)] = jpeg + bytes(len(old) - len(jpeg))
    else:
        start = len(tiff) + len(tiff) % 2
        tiff[len(tiff) :] = bytes(start - len(tiff)) + jpeg
    struct.pack_into(order + "I", tiff, start_entry + 8, start)
    struct.pack_into(order + "I", tiff, length_entry + 8, len(jpeg))
    return EXIF_PREFIX + bytes(tiff)


def _thumbnail_entries(tiff: bytearray) -> tuple[bytes, int, int] | None:
    """(thumbnail, offset of its start entry, offset of its length entry) of IFD1, both entries one LONG."""
    order = _byte_order(tiff)
    try:
        first = _first_directory(tiff)
        (count,) = struct.unpack_from(order + "H", tiff, first)
        (second,) = struct.unpack_from(order + "I", tiff, first + 2 + 12 * count)
        if not second:
            return None
        start, length = _entry(tiff, second, THUMBNAIL_START), _entry(tiff, second, THUMBNAIL_LENGTH)
    except struct.error:
        return None
    if start is None or length is None or start[1:] != (LONG, 1) or length[1:] != (LONG, 1):
        return None
    (offset,) = struct.unpack_from(order + "I", tiff, start[0] + 8)
    (size,) = struct.unpack_from(order + "I", tiff, length[0] + 8)
    jpeg = bytes(tiff[offset : offset + size])
    return (jpeg, start[0], length[0]) if len(jpeg) == size and jpeg[:2] == b"\xff\xd8" else None


def density(tags: Mapping[int, Any]) -> tuple[float, float] | None:
    """The (horizontal, vertical) dots per inch EXIF (or TIFF) ``tags`` state, or ``None`` for none or a bare
    aspect ratio. Pillow reports densities no file stated (72 dpi for a JPEG whose EXIF names none or no unit,
    1 dpi for a TIFF without resolution tags); this reads only what is there."""
    unit = tags.get(RESOLUTION_UNIT, INCHES)
    if X_RESOLUTION not in tags or unit not in (INCHES, CENTIMETRES):
        return None
    scale = 2.54 if unit == CENTIMETRES else 1.0
    try:
        horizontal = float(tags[X_RESOLUTION]) * scale
        return horizontal, float(tags.get(Y_RESOLUTION, tags[X_RESOLUTION])) * scale
    except (TypeError, ValueError, ZeroDivisionError):  # a malformed value or a rational over zero
        return None


def with_density(exif: bytes | None, dpi: tuple[float, float]) -> bytes | None:
    """EXIF that states ``dpi``, for formats whose only density field is EXIF's (WebP, AVIF): a new block holding
    only the density when there is no EXIF, ``exif`` itself when it states a density; else ``exif`` with a
    warning that the density is left out (added tags would re-serialise the block, losing maker notes)."""
    if exif is None:
        tags = Image.Exif()
        tags[X_RESOLUTION], tags[Y_RESOLUTION], tags[RESOLUTION_UNIT] = dpi[0], dpi[1], INCHES
        return tags.tobytes()  # Pillow's form, the Exif prefix first
    if density(exif_tags(exif) or {}) is None:
        log.warning("the output format keeps the pixel density in EXIF only, whose block states none: "
                    "%g x %g dpi left out", *dpi)  # fmt: skip
    return exif
