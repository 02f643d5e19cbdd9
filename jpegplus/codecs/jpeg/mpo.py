"""An MPO JPEG's further pictures (CIPA DC-007 Multi-Picture Format), carried whole into JPEG outputs.

Phones write their photos as a JPEG followed by more JPEGs that an APP2 ``MPF`` segment of the first
indexes: Ultra HDR's gain map (Android), a stereo camera's second view, a camera's large preview.
Every decoder shows the first picture; the others are what a phone needs to show the photo in HDR.
jpegplus rewrites the first picture only: the others follow it byte for byte, and the source's MPF
segment is written again with only its entries' sizes and offsets changed (its attribute IFD, stereo
geometry for instance, stays as it was)::

    SOI … APP2 "MPF" (index: each picture's attribute, size, offset) … EOI | picture 2 | picture 3 …
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from jpegplus.codecs.jpeg.markers import header_segments

log = logging.getLogger(__name__)

APP2 = 0xE2
MPF_IDENTIFIER = b"MPF\0"
MP_ENTRY_TAG = 0xB002  # the MP index IFD's entry list: 16 bytes per picture
ENTRY_BYTES = 16  # attribute, size, offset (LONG each), two dependent-picture numbers (SHORT each)
IFD_ENTRY_BYTES = 12
SOI_BYTES = b"\xff\xd8"


@dataclass(frozen=True)
class FurtherPictures:
    """The pictures after an MPO's first, whole, and the source's MPF segment body (``MPF\\0`` and its TIFF
    structure) whose MP entries, ``entries`` bytes in, index them (``byte_order``: ``>`` or ``<``)."""

    pictures: tuple[bytes, ...]
    index: bytes
    entries: int
    byte_order: str


def read(data: bytes) -> FurtherPictures | None:
    """The further pictures of an MPO JPEG's ``data``; ``None`` without an MPF index of more than one picture, or
    (with a warning) when the index does not point at whole JPEGs inside the file."""
    found = _index_segment(data)
    if found is None:
        return None
    header, body = found
    parsed = _entries(body)
    if parsed is None:
        log.warning("the JPEG's MPF index (of its further pictures) does not parse: only its first picture is kept")
        return None
    byte_order, entries, count = parsed
    if count < 2:
        return None
    pictures = []
    for number in range(1, count):
        size, offset = struct.unpack_from(byte_order + "II", body, entries + number * ENTRY_BYTES + 4)
        start = header + offset
        picture = data[start : start + size]
        if offset == 0 or len(picture) != size or not picture.startswith(SOI_BYTES):
            log.warning("the JPEG's MPF index points outside the file or at no JPEG: its further pictures are left out")
            return None
        pictures.append(picture)
    return FurtherPictures(tuple(pictures), body, entries, byte_order)


def with_pictures(primary: bytes, further: FurtherPictures | None) -> bytes:
    """``primary`` (a JPEG without an MPF segment) as the first picture of an MPO: the source's MPF segment after
    its APP1 EXIF (else right after SOI), the entries' sizes and offsets set, then the further pictures
    (``primary`` itself without any)."""
    if further is None:
        return primary
    segment = struct.pack(">BBH", 0xFF, APP2, len(further.index) + 2)
    at = _after_exif(primary)
    first_size = len(primary) + len(segment) + len(further.index)
    header = at + len(segment) + len(MPF_IDENTIFIER)  # offsets count from the MPF segment's TIFF header
    index = bytearray(further.index)
    struct.pack_into(further.byte_order + "II", index, further.entries + 4, first_size, 0)
    position = first_size
    for number, picture in enumerate(further.pictures, start=1):
        field = further.entries + number * ENTRY_BYTES + 4
        struct.pack_into(further.byte_order + "II", index, field, len(picture), position - header)
        position += len(picture)
    return primary[:at] + segment + bytes(index) + primary[at:] + b"".join(further.pictures)


def _index_segment(data: bytes) -> tuple[int, bytes] | None:
    """The file offset of the first MPF segment's TIFF header and the segment's body, or ``None``."""
    for marker, start, end in header_segments(data):
        body = data[start + 4 : end]
        if marker == APP2 and body.startswith(MPF_IDENTIFIER):
            return start + 4 + len(MPF_IDENTIFIER), body
    return None


def _entries(body: bytes) -> tuple[str, int, int] | None:
    """The byte order, the offset in ``body`` of the MP entries and their count, or ``None`` when malformed."""
    tiff = body[len(MPF_IDENTIFIER) :]
    byte_order = {b"MM\0*": ">", b"II*\0": "<"}.get(tiff[:4])
    if byte_order is None or len(tiff) < 10:
        return None
    (first,) = struct.unpack_from(byte_order + "I", tiff, 4)
    if first + 2 > len(tiff):
        return None
    (fields,) = struct.unpack_from(byte_order + "H", tiff, first)
    for number in range(fields):
        place = first + 2 + number * IFD_ENTRY_BYTES
        if place + IFD_ENTRY_BYTES > len(tiff):
            return None
        tag, _, count, offset = struct.unpack_from(byte_order + "HHII", tiff, place)
        if tag == MP_ENTRY_TAG:
            entries = len(MPF_IDENTIFIER) + offset
            valid = count % ENTRY_BYTES == 0 and count >= ENTRY_BYTES and entries + count <= len(body)
            return (byte_order, entries, count // ENTRY_BYTES) if valid else None
    return None


def _after_exif(data: bytes) -> int:
    """Where an MPF segment goes: after the APP1 EXIF segment, as CIPA DC-007 asks, else right after SOI."""
    for marker, start, end in header_segments(data):
        if marker == APP2 - 1 and data[start + 4 : start + 10] == b"Exif\0\0":
            return end
    return len(SOI_BYTES)
