"""What a JPEG file holds after its picture, carried whole into JPEG outputs: an MPO's further pictures and the
bytes after them.

Phones write more than one image into a photo's file. An APP2 ``MPF`` segment (CIPA DC-007 Multi-Picture
Format) indexes further JPEGs after the first: Ultra HDR's gain map (Android), a stereo camera's second view,
a camera's large preview. After the pictures may come data no index in the JPEG describes: a motion photo's
video (Google's and Samsung's, located from the end of the file by their XMP), Samsung's trailer. Every
decoder shows the first picture only; the rest is what a phone needs to show the photo in HDR or in motion.
jpegplus rewrites the first picture only: the rest follows it byte for byte, and the source's MPF segment is
written again with only its entries' sizes and offsets changed (its attribute IFD, stereo geometry for
instance, stays as it was)::

    SOI … APP2 "MPF" (each picture's attribute, size, offset) … EOI | picture 2 | picture 3 … | trailer
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

from jpegplus.codecs.jpeg.markers import header_segments, image_end

log = logging.getLogger(__name__)

APP1, APP2 = 0xE1, 0xE2
MPF_IDENTIFIER = b"MPF\0"
MP_ENTRY_TAG = 0xB002  # the MP index IFD's entry list: 16 bytes per picture
ENTRY_BYTES = 16  # attribute, size, offset (LONG each), two dependent-picture numbers (SHORT each)
IFD_ENTRY_BYTES = 12
SOI_BYTES = b"\xff\xd8"
PADDING = b"\0\xff"  # bytes some writers leave after the end marker: nothing to keep


@dataclass(frozen=True)
class Appended:
    """What follows a JPEG's picture: an MPO's further ``pictures``, whole, with the source's MPF segment body
    (``MPF\\0`` and its TIFF structure) whose MP entries, ``entries`` bytes in, index them (``byte_order``: ``>``
    or ``<``); and the ``trailer``, the bytes after them (or after the picture)."""

    pictures: tuple[bytes, ...] = ()
    index: bytes = b""
    entries: int = 0
    byte_order: str = ">"
    trailer: bytes = b""

    @property
    def size(self) -> int:
        """The bytes it adds to a file (the MPF segment included)."""
        segment = 4 + len(self.index) if self.pictures else 0
        return segment + sum(len(picture) for picture in self.pictures) + len(self.trailer)

    def describe(self) -> str:
        """What it is, for a warning: "2 further pictures (MPO: …) and 1,234 bytes after them (…)"."""
        parts = []
        if self.pictures:
            count = len(self.pictures)
            plural = "" if count == 1 else "s"
            parts.append(f"{count} further picture{plural} (MPO: an HDR gain map, a stereo view or a preview)")
        if self.trailer:
            where = "after them" if self.pictures else "after its picture"
            parts.append(f"{len(self.trailer):,} bytes {where} (a motion photo's video, a phone's trailer)")
        return " and ".join(parts)


def read(data: bytes) -> Appended | None:
    """What follows the picture of a JPEG's ``data``, or ``None`` when nothing does but padding. An MPF index that
    does not point at whole JPEGs inside the file is dropped with a warning, the bytes it pointed at kept as the
    trailer."""
    indexed = _indexed(data)
    if indexed is not None:
        return indexed
    end = image_end(data)
    trailer = _meaningful(data[end:]) if end is not None else b""
    return Appended(trailer=trailer) if trailer else None


def with_appended(primary: bytes, appended: Appended | None) -> bytes:
    """``primary`` (a JPEG without an MPF segment) followed by ``appended``: as the first picture of an MPO when
    there are further pictures (the source's MPF segment after its APP1 EXIF, else right after SOI, the entries'
    sizes and offsets set), then the trailer; ``primary`` itself without anything appended."""
    if appended is None:
        return primary
    if not appended.pictures:
        return primary + appended.trailer
    segment = struct.pack(">BBH", 0xFF, APP2, len(appended.index) + 2)
    at = _after_exif(primary)
    first_size = len(primary) + len(segment) + len(appended.index)
    header = at + len(segment) + len(MPF_IDENTIFIER)  # offsets count from the MPF segment's TIFF header
    index = bytearray(appended.index)
    struct.pack_into(appended.byte_order + "II", index, appended.entries + 4, first_size, 0)
    position = first_size
    for number, picture in enumerate(appended.pictures, start=1):
        field = appended.entries + number * ENTRY_BYTES + 4
        struct.pack_into(appended.byte_order + "II", index, field, len(picture), position - header)
        position += len(picture)
    opening = primary[:at] + segment + bytes(index) + primary[at:]
    return opening + b"".join(appended.pictures) + appended.trailer


def _indexed(data: bytes) -> Appended | None:
    """The further pictures an MPF index of more than one picture points at, with the bytes after the last of them;
    ``None`` without such an index (with a warning when it is there but broken)."""
    found = _index_segment(data)
    if found is None:
        return None
    header, body = found
    parsed = _entries(body)
    if parsed is None:
        log.warning("the JPEG's MPF index does not parse: what follows its picture is kept without an index")
        return None
    byte_order, entries, count = parsed
    pictures, last = [], 0
    for number in range(1, count):
        size, offset = struct.unpack_from(byte_order + "II", body, entries + number * ENTRY_BYTES + 4)
        picture = data[header + offset : header + offset + size]
        if offset == 0 or len(picture) != size or not picture.startswith(SOI_BYTES):
            log.warning(
                "the JPEG's MPF index points outside the file or at no JPEG: what follows its picture is kept "
                "without an index"
            )
            return None
        pictures.append(picture)
        last = max(last, header + offset + size)
    if not pictures:
        return None
    return Appended(tuple(pictures), body, entries, byte_order, _meaningful(data[last:]))


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


def _meaningful(tail: bytes) -> bytes:
    """``tail`` unless it is only padding."""
    return tail if tail.strip(PADDING) else b""


def _after_exif(data: bytes) -> int:
    """Where an MPF segment goes: after the APP1 EXIF segment, as CIPA DC-007 asks, else right after SOI."""
    for marker, start, end in header_segments(data):
        if marker == APP1 and data[start + 4 : start + 10] == b"Exif\0\0":
            return end
    return len(SOI_BYTES)
