"""The parts of the four container formats, read independently of jpegplus (the fuzzer trusts nothing it tests).

A :class:`Part` is one JPEG marker segment, RIFF chunk or ISO box: where it starts and ends in the
file and where its length field sits, so the mutators can cut, copy, resize or lie about it. The
jpegplus payload's places are file-format facts, spelled out here (README, "Files and metadata"):
a JUMBF box in an APP11 segment of a JPEG (or, in older files, a bare ``JPEGPLUS`` APP11 segment),
a ``JPLS`` chunk of a WebP, a ``uuid`` box of a JP2 or AVIF file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

LEGACY_APP11 = b"JPEGPLUS\0"  # body prefix of the bare APP11 segment of older jpegplus JPEGs
JPEGPLUS_CHUNK = b"JPLS"  # WebP RIFF chunk
JPEGPLUS_UUID = bytes.fromhex("6a7065677090c0de4b1e5a1d0e7f2a01")  # JP2 / AVIF uuid box, JPEG JUMBF description


@dataclass(frozen=True)
class Part:
    """One segment, chunk or box: ``data[start:end]``, its body from ``body``, its length field at ``length_at``."""

    kind: bytes
    start: int
    end: int
    body: int
    length_at: int
    length_format: str  # struct format of the length field

    def declared_length(self, body_length: int) -> int:
        """What this part's length field says for a body of ``body_length`` bytes."""
        if self.length_format == ">H":  # JPEG: the length counts itself
            return body_length + 2
        if self.length_format == "<I":  # RIFF: the body only
            return body_length
        return body_length + self.body - self.start  # ISO: the whole box

    def cut(self, data: bytes) -> bytes:
        """The whole part, header included."""
        return data[self.start : self.end]


def container_of(data: bytes) -> str | None:
    """``"jpeg"``, ``"riff"``, ``"iso"`` (JP2, AVIF, HEIF) or ``None``."""
    if data[:2] == b"\xff\xd8":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "riff"
    if data[4:8] in (b"ftyp", b"jP  "):
        return "iso"
    return None


def parts(data: bytes) -> list[Part]:
    """The top-level parts of a JPEG, WebP or ISO file (empty for anything else)."""
    readers = {"jpeg": jpeg_segments, "riff": riff_chunks, "iso": iso_boxes}
    kind = container_of(data)
    return readers[kind](data) if kind else []


def jpeg_segments(data: bytes) -> list[Part]:
    """Marker segments from SOI; the first scan (SOS to the end) is one part of kind ``b"SCAN"``."""
    found, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xDA:
            found.append(Part(b"SCAN", offset, len(data), offset + 4, offset + 2, ">H"))
            break
        (length,) = struct.unpack_from(">H", data, offset + 2)
        end = min(offset + 2 + length, len(data))
        found.append(Part(bytes([marker]), offset, end, offset + 4, offset + 2, ">H"))
        if length < 2:
            break
        offset = end
    return found


def riff_chunks(data: bytes) -> list[Part]:
    """The chunks after the 12-byte ``RIFF size WEBP`` header (padded to even lengths)."""
    found, offset = [], 12
    while offset + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, offset)
        end = min(offset + 8 + length + length % 2, len(data))
        found.append(Part(kind, offset, end, offset + 8, offset + 4, "<I"))
        offset = end
    return found


def iso_boxes(data: bytes) -> list[Part]:
    """Top-level boxes; a zero length runs to the end of the file, 64-bit lengths are followed."""
    found, offset = [], 0
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        header, length_at, length_format = 8, offset, ">I"
        if length == 1 and offset + 16 <= len(data):
            (length,), header, length_at, length_format = (
                struct.unpack_from(">Q", data, offset + 8),
                16,
                offset + 8,
                ">Q",
            )
        elif length == 0:
            length = len(data) - offset
        if length < header:
            break
        end = min(offset + length, len(data))
        found.append(Part(kind, offset, end, offset + header, length_at, length_format))
        offset = end
    return found


@dataclass(frozen=True)
class PayloadSpot:
    """Where the jpegplus payload sits: ``data[start:end]``, inside ``part`` (a top-level part).

    ``lengths`` are the (offset, struct format) of every length field that counts the payload's
    bytes, innermost first: a JUMBF ``bidb`` box, its ``jumb`` superbox and the APP11 segment, or
    one chunk or box. ``riff``: a WebP chunk, padded to even length, inside a RIFF size.
    """

    part: Part
    start: int
    end: int
    lengths: tuple[tuple[int, str], ...]
    riff: bool = False


def payload_spot(data: bytes) -> PayloadSpot | None:
    """Where the first jpegplus payload of ``data`` is, as the library finds it, or ``None``."""
    for part in parts(data):
        body = data[part.body : part.end]
        own = ((part.length_at, part.length_format),)
        if part.kind == b"\xeb" and body.startswith(LEGACY_APP11):
            return PayloadSpot(part, part.body + len(LEGACY_APP11), part.end, own)
        if part.kind == b"\xeb" and body.startswith(b"JP"):
            found = _jumbf_spot(data, part.body + 8, part.end)
            if found is not None:
                return PayloadSpot(part, found[0], found[1], (*found[2], *own))
        if part.kind == JPEGPLUS_CHUNK:
            (length,) = struct.unpack_from("<I", data, part.length_at)
            return PayloadSpot(part, part.body, min(part.body + length, len(data)), own, riff=True)
        if part.kind == b"uuid" and body.startswith(JPEGPLUS_UUID):
            return PayloadSpot(part, part.body + len(JPEGPLUS_UUID), part.end, own)
    return None


def _jumbf_spot(data: bytes, start: int, end: int) -> tuple[int, int, tuple[tuple[int, str], ...]] | None:
    """The ``bidb`` box of a JUMBF superbox whose description names jpegplus: (start, end, length fields)."""
    for superbox in _boxes_between(data, start, end):
        inner = _boxes_between(data, superbox.body, superbox.end) if superbox.kind == b"jumb" else []
        if inner and inner[0].kind == b"jumd" and data[inner[0].body :].startswith(JPEGPLUS_UUID):
            for content in inner[1:]:
                if content.kind == b"bidb":
                    fields = ((content.length_at, content.length_format), (superbox.length_at, superbox.length_format))
                    return content.body, content.end, fields
    return None


def _boxes_between(data: bytes, start: int, end: int) -> list[Part]:
    """ISO boxes in ``data[start:end]``, with offsets into ``data``."""
    return [
        Part(p.kind, p.start + start, p.end + start, p.body + start, p.length_at + start, p.length_format)
        for p in iso_boxes(data[start:end])
    ]


def replace_payload(data: bytes, spot: PayloadSpot, payload: bytes) -> bytes:
    """``data`` with the payload at ``spot`` replaced and every length counting it kept consistent."""
    old_pad = (spot.end - spot.start) % 2 if spot.riff else 0
    new_pad = len(payload) % 2 if spot.riff else 0
    out = bytearray(data[: spot.start] + payload + b"\0" * new_pad + data[spot.end + old_pad :])
    delta = len(payload) - (spot.end - spot.start)
    for offset, layout in spot.lengths:
        (value,) = struct.unpack_from(layout, out, offset)
        struct.pack_into(layout, out, offset, (value + delta) % 2 ** (8 * struct.calcsize(layout)))
    return fix_riff_size(bytes(out))


def fix_riff_size(data: bytes) -> bytes:
    """A WebP file with its RIFF size field matching its length (other files unchanged)."""
    if container_of(data) != "riff":
        return data
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]
