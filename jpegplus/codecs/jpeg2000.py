"""JPEG 2000 (JP2 file) through Pillow (OpenJPEG), irreversible wavelet with colour transform."""

from __future__ import annotations

from typing import Any

from jpegplus.codecs.boxes import BoxPayloadCodec
from jpegplus.codecs.registry import CodecName, register_codec


def compression_ratio(quality: int) -> float:
    """Map the 1–100 quality to an OpenJPEG compression ratio, log-linearly.

    Quality 1 asks for 100:1 and quality 100 for about 3.3:1, so quality 10–40 lands near
    the bit rates of JPEG at the same number (JPEG 2000 then looks better at equal quality).

    >>> round(compression_ratio(1)), round(compression_ratio(100), 1)
    (100, 3.3)
    """
    return float(10.0 ** (2.0 - 0.015 * (quality - 1)))


@register_codec(CodecName.JPEG2000)
class Jpeg2000Codec(BoxPayloadCodec):
    """JP2 files; ``quality`` maps to a compression ratio (:func:`compression_ratio`).

    Pillow writes no XMP into JP2; the payload rides in a trailing ``uuid`` box.
    """

    extension = ".jp2"
    pillow_format = "JPEG2000"

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        return {
            "quality_mode": "rates",
            "quality_layers": [compression_ratio(quality)],
            "irreversible": True,
            "mct": 1 if mode == "RGB" else 0,
            "no_jp2": False,
        }
