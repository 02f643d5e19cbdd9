"""AVIF through Pillow (libavif)."""

from __future__ import annotations

from typing import Any

from jpegplus.codecs.boxes import BoxPayloadCodec
from jpegplus.codecs.registry import CodecName, register_codec

ALPHA_QUALITY = 90
"""Alpha is coded at least at this quality. On two 512×384 masks at colour quality 10–60 its largest
error is 4–6 levels (with alpha at the colour's quality 10: 18–97) for 1.8–4.6 KB; lossless alpha cost 7–13 KB."""


def quantizer(quality: int) -> int:
    """libavif's AV1 quantizer (0 lossless … 63) for a 0–100 quality.

    >>> quantizer(90), quantizer(100)
    (6, 0)
    """
    return ((100 - quality) * 63 + 50) // 100


@register_codec(CodecName.AVIF)
class AvifCodec(BoxPayloadCodec):
    """AVIF; ``quality`` is libavif's 1–100 scale, encoder speed 6; alpha at :data:`ALPHA_QUALITY` or above.

    The payload rides in a trailing ``uuid`` box (about 50 bytes; an XMP item cost about 370, 5% of
    a small AVIF). Files that carry it in XMP (the payload's first format) are read too.
    """

    extension = ".avif"
    pillow_format = "AVIF"
    density_in_exif = True

    def save_options(self, quality: int, mode: str) -> dict[str, Any]:
        options: dict[str, Any] = {"quality": quality, "speed": 6}
        if mode in ("LA", "RGBA"):  # libaom's option for the alpha plane alone
            options["advanced"] = {"a:cq-level": str(quantizer(max(quality, ALPHA_QUALITY)))}
        return options
