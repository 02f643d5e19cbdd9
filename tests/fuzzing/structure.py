"""The parts of the four container formats, read independently of jpegplus (the fuzzer trusts nothing it tests).

A :class:`Part` is one JPEG marker segment, RIFF chunk or ISO box: where it starts and ends in the
file and where its length field sits, so the mutators can cut, copy, resize or lie about it. The
jpegplus payload's places are file-format facts, spelled out here (README, "Files and metadata").
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

JPEGPLUS_APP11 = b"JPEGPLUS\0"  # body prefix of the JPEG APP11 segment
JPEGPLUS_CHUNK = b"JPLS"  # WebP RIFF chunk
JPEGPLUS_UUID = bytes.fromhex("6a7065677090c0de4b1e5a1d0e7f2a01")  # JP2 / AVIF uuid box


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


def payload_part(data: bytes) -> tuple[Part, int] | None:
    """The part holding the jpegplus payload and the offset where the payload itself starts."""
    for part in parts(data):
        body = data[part.body : part.end]
        if part.kind == bytes([0xEB]) and body.startswith(JPEGPLUS_APP11):
            return part, part.body + len(JPEGPLUS_APP11)
        if part.kind == JPEGPLUS_CHUNK:
            return part, part.body
        if part.kind == b"uuid" and body.startswith(JPEGPLUS_UUID):
            return part, part.body + len(JPEGPLUS_UUID)
    return None


def replace_body(data: bytes, part: Part, new_body: bytes) -> bytes:
    """``data`` with ``part``'s body replaced and its length field (and a RIFF file's size) kept consistent."""
    header = bytearray(data[part.start : part.body])
    struct.pack_into(part.length_format, header, part.length_at - part.start, part.declared_length(len(new_body)))
    padding = b"\0" * (len(new_body) % 2) if part.length_format == "<I" else b""
    return fix_riff_size(data[: part.start] + bytes(header) + new_body + padding + data[part.end :])


def fix_riff_size(data: bytes) -> bytes:
    """A WebP file with its RIFF size field matching its length (other files unchanged)."""
    if container_of(data) != "riff":
        return data
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]
