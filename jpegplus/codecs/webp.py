"""WebP through Pillow (libwebp), lossy, slowest and best method."""

from __future__ import annotations

from typing import Any

from jpegplus.codecs.pillow_codec import PillowCodec
from jpegplus.codecs.registry import CodecName, register_codec


@register_codec(CodecName.WEBP)
class WebpCodec(PillowCodec):
    """Lossy WebP; ``quality`` is libwebp's 1–100 scale, method 6."""

    extension = ".webp"
    pillow_format = "WEBP"
    carries_gray = False

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        return {"quality": quality, "method": 6}
