"""JPEG 2000 (JP2 file) through Pillow (OpenJPEG), irreversible wavelet with colour transform."""

from __future__ import annotations

import struct
from typing import Any

from jpegplus.codecs.pillow_codec import PillowCodec, open_image
from jpegplus.codecs.registry import CodecName, register_codec

UUID_BOX = b"uuid"
JPEGPLUS_UUID = bytes.fromhex("6a7065677090c0de4b1e5a1d0e7f2a01")  # fixed id of jpegplus boxes


def compression_ratio(quality: int) -> float:
    """Map the 1–100 quality to an OpenJPEG compression ratio, log-linearly.

    Quality 1 asks for 100:1 and quality 100 for about 3.3:1, so quality 10–40 lands near
    the bit rates of JPEG at the same number (JPEG 2000 then looks better at equal quality).

    >>> round(compression_ratio(1)), round(compression_ratio(100), 1)
    (100, 3.3)
    """
    return float(10.0 ** (2.0 - 0.015 * (quality - 1)))


@register_codec(CodecName.JPEG2000)
class Jpeg2000Codec(PillowCodec):
    """JP2 files; ``quality`` maps to a compression ratio (:func:`compression_ratio`)."""

    extension = ".jp2"
    pillow_format = "JPEG2000"
    payload_in_xmp = False

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        return {
            "quality_mode": "rates",
            "quality_layers": [compression_ratio(quality)],
            "irreversible": True,
            "mct": 1 if mode == "RGB" else 0,
            "no_jp2": False,
        }

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Append a ``uuid`` box after the codestream (Pillow writes no XMP into JP2)."""
        return data + struct.pack(">I", 8 + 16 + len(payload)) + UUID_BOX + JPEGPLUS_UUID + payload

    def read_payload(self, data: bytes) -> bytes | None:
        """The payload of the jpegplus ``uuid`` box, or ``None``."""
        open_image(data, self.pillow_format, load=False)
        for kind, body in _boxes(data):
            if kind == UUID_BOX and body.startswith(JPEGPLUS_UUID):
                return body[len(JPEGPLUS_UUID) :]
        return None


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of the top-level boxes of a JP2 file."""
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
