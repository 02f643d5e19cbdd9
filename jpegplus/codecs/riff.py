"""The jpegplus payload as a private chunk of a WebP RIFF file.

WebP's extended format (a ``VP8X`` header chunk) lets readers skip chunks they do not know, so
the payload costs its chunk header (8 bytes), itself and, for a simple file, the 18-byte
``VP8X`` chunk that turns it into an extended one: about 50 bytes where an XMP packet cost 300.
"""

from __future__ import annotations

import struct

PAYLOAD_CHUNK = b"JPLS"
EXTENDED_HEADER = b"VP8X"
RIFF_HEADER = 12  # "RIFF", size, "WEBP"


def append_chunk(data: bytes, payload: bytes, width: int, height: int) -> bytes:
    """``data`` (a WebP file of ``width`` × ``height``) with a jpegplus chunk at its end."""
    chunks = data[RIFF_HEADER:]
    if not chunks.startswith(EXTENDED_HEADER):
        canvas = struct.pack("<I", width - 1)[:3] + struct.pack("<I", height - 1)[:3]
        chunks = _chunk(EXTENDED_HEADER, bytes(4) + canvas) + chunks  # no flags: no alpha, ICC, EXIF, XMP
    chunks += _chunk(PAYLOAD_CHUNK, payload)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


def find_chunk(data: bytes) -> bytes | None:
    """The body of the first jpegplus chunk, or ``None``."""
    offset = RIFF_HEADER
    while offset + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, offset)
        if kind == PAYLOAD_CHUNK:
            return data[offset + 8 : offset + 8 + length]
        offset += 8 + length + length % 2
    return None


def _chunk(kind: bytes, body: bytes) -> bytes:
    """A RIFF chunk, padded to an even length."""
    return kind + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2)
