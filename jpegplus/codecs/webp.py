"""WebP through Pillow (libwebp), lossy, slowest and best method."""

from __future__ import annotations

from typing import Any

from PIL import Image

from jpegplus.codecs.pillow_codec import PillowCodec, open_image
from jpegplus.codecs.registry import CodecName, register_codec
from jpegplus.codecs.riff import append_chunk, find_chunk


@register_codec(CodecName.WEBP)
class WebpCodec(PillowCodec):
    """Lossy WebP; ``quality`` is libwebp's 1–100 scale, method 6.

    The payload rides in a private RIFF chunk (about 50 bytes); files that carry it in XMP
    (jpegplus before format 2 of the payload) are still read.
    """

    extension = ".webp"
    pillow_format = "WEBP"
    density_in_exif = True
    carries_gray = False

    def save_options(self, quality: int, mode: str) -> dict[str, Any]:
        return {"quality": quality, "method": 6}

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Append the jpegplus chunk (making the file an extended WebP if it is not one)."""
        width, height = open_image(data, self.pillow_format, load=False).size
        return append_chunk(data, payload, width, height)

    def find_payload(self, picture: Image.Image, data: bytes) -> bytes | None:
        """The payload of the jpegplus chunk, or ``None``."""
        return find_chunk(data)
