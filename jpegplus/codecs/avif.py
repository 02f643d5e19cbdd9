"""AVIF through Pillow (libavif)."""

from __future__ import annotations

from typing import Any

from jpegplus.codecs.boxes import BoxPayloadCodec
from jpegplus.codecs.registry import CodecName, register_codec


@register_codec(CodecName.AVIF)
class AvifCodec(BoxPayloadCodec):
    """AVIF; ``quality`` is libavif's 1–100 scale, encoder speed 6.

    The payload rides in a trailing ``uuid`` box (about 50 bytes; an XMP item cost about 370, 5% of
    a small AVIF). Files that carry it in XMP (jpegplus before session 4) are still read.
    """

    extension = ".avif"
    pillow_format = "AVIF"

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        return {"quality": quality, "speed": 6}
