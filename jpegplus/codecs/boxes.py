"""Boxes of ISO base media files (JP2, AVIF), and the jpegplus payload as a ``uuid`` box at their end.

Readers of box-structured files skip top-level boxes they do not know, so the payload costs
8 + 16 + its length bytes (about 50) and nothing else in the file changes.
"""

from __future__ import annotations

import struct

from jpegplus.codecs.pillow_codec import PillowCodec

UUID_BOX = b"uuid"
JPEGPLUS_UUID = bytes.fromhex("6a7065677090c0de4b1e5a1d0e7f2a01")  # fixed id of jpegplus boxes


def box(kind: bytes, body: bytes) -> bytes:
    """One box: 32-bit length, type, body (the 64-bit length form for bodies over 4 GB)."""
    if 8 + len(body) < 2**32:
        return struct.pack(">I", 8 + len(body)) + kind + body
    return struct.pack(">I", 1) + kind + struct.pack(">Q", 16 + len(body)) + body


def read_boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of the boxes at one level, up to the first damaged length."""
    found, offset = [], 0
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if length == 1 and offset + 16 <= len(data):
            length, header = struct.unpack(">Q", data[offset + 8 : offset + 16])[0], 16
        elif length == 0:
            length = len(data) - offset
        if length < header:
            break
        found.append((kind, data[offset + header : offset + length]))
        offset += length
    return found


def append_payload(data: bytes, payload: bytes) -> bytes:
    """``data`` with a jpegplus ``uuid`` box appended after its last box."""
    return data + box(UUID_BOX, JPEGPLUS_UUID + payload)


def find_box_payload(data: bytes) -> bytes | None:
    """The payload of the first top-level jpegplus ``uuid`` box, or ``None``."""
    for kind, body in read_boxes(data):
        if kind == UUID_BOX and body.startswith(JPEGPLUS_UUID):
            return body[len(JPEGPLUS_UUID) :]
    return None


class BoxPayloadCodec(PillowCodec):
    """A Pillow codec of a box-structured format whose jpegplus payload rides in a trailing ``uuid`` box."""

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Append the jpegplus ``uuid`` box."""
        return append_payload(data, payload)

    def find_payload(self, data: bytes) -> bytes | None:
        """The payload of the jpegplus ``uuid`` box, or ``None``."""
        return find_box_payload(data)
