"""AVIF through Pillow (libavif)."""

from __future__ import annotations

from typing import Any

from jpegplus.codecs.pillow_codec import PillowCodec
from jpegplus.codecs.registry import CodecName, register_codec


@register_codec(CodecName.AVIF)
class AvifCodec(PillowCodec):
    """AVIF; ``quality`` is libavif's 1–100 scale, encoder speed 6."""

    extension = ".avif"
    pillow_format = "AVIF"

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        return {"quality": quality, "speed": 6}
