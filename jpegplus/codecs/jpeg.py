"""JPEG through Pillow (libjpeg-turbo): baseline, Huffman-optimised, 4:2:0 like the reference."""

from __future__ import annotations

import struct
from typing import Any

from jpegplus.codecs.pillow_codec import PillowCodec
from jpegplus.codecs.registry import CodecName, register_codec
from jpegplus.quantization import restoration_tables

APP11 = 0xEB
IDENTIFIER = b"JPEGPLUS\0"


@register_codec(CodecName.JPEG)
class JpegCodec(PillowCodec):
    """JPEG; ``quality`` is libjpeg's 1–100 scale of the standard tables.

    The jpegplus payload travels in its own APP11 segment (``JPEGPLUS\\0`` + payload),
    which every decoder skips: about 40 bytes, a fraction of XMP's overhead.
    """

    extension = ".jpg"
    pillow_format = "JPEG"

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        """Standard tables of ``quality``, or for restoration the flatter tables on the same scale."""
        options: dict[str, Any] = {"optimize": True, "subsampling": "4:2:0"}
        if not restoration:
            return {"quality": quality, **options}
        luma, chroma = restoration_tables(quality)
        tables = [luma] if mode == "L" else [luma, chroma]
        return {"qtables": [table.astype(int).tolist() for table in tables], **options}

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Insert an APP11 segment after the leading APP segments (JFIF, EXIF, ICC)."""
        segment = IDENTIFIER + payload
        marker = struct.pack(">BBH", 0xFF, APP11, len(segment) + 2) + segment
        offset = _after_leading_app_segments(data)
        return data[:offset] + marker + data[offset:]

    def find_payload(self, data: bytes) -> bytes | None:
        """The payload of the first jpegplus APP11 segment, or ``None``."""
        for kind, body in _segments(data):
            if kind == APP11 and body.startswith(IDENTIFIER):
                return body[len(IDENTIFIER) :]
        return None


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of the header segments up to the first scan."""
    found, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        kind = data[offset + 1]
        if kind == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        found.append((kind, data[offset + 4 : offset + 2 + length]))
        offset += 2 + length
    return found


def _after_leading_app_segments(data: bytes) -> int:
    """Offset just past SOI and the APPn segments (JFIF, EXIF, ICC) that open the file."""
    offset = 2
    for kind, body in _segments(data):
        if not 0xE0 <= kind <= 0xEF:
            break
        offset += 4 + len(body)
    return offset
