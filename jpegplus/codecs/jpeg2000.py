"""JPEG 2000 (JP2 file) through Pillow (OpenJPEG), irreversible wavelet with colour transform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from jpegplus.codecs.boxes import BoxPayloadCodec
from jpegplus.codecs.jp2meta import write_metadata
from jpegplus.codecs.raw_profiles import irb_records, segments_irb
from jpegplus.codecs.registry import CodecName, register_codec

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

    from jpegplus.codecs.registry import CarriedMetadata

LOWEST_RATE_RATIO = 300.0
"""Compression ratio of quality 1: about 0.08 bpp for 24-bit RGB, below the 0.1 bpp of low-rate benchmarks."""

KNEE_QUALITY = 10
"""From this quality up the ratio is 10 ** (2 - 0.015 (quality - 1)): 73:1 at 10, about 3.3:1 at 100."""


def compression_ratio(quality: int) -> float:
    """Map the 1–100 quality to an OpenJPEG compression ratio, log-linearly on two segments.

    From quality 10 up the ratio falls from 73:1 to about 3.3:1 at 100, so quality 10–40 lands near
    the bit rates of JPEG at the same number (JPEG 2000 then looks better at equal quality). Below
    10 it climbs steeper, to 300:1 at quality 1, so the quality range reaches 0.1 bpp.

    >>> round(compression_ratio(1)), round(compression_ratio(10)), round(compression_ratio(100), 1)
    (300, 73, 3.3)
    """
    if quality >= KNEE_QUALITY:
        return float(10.0 ** (2.0 - 0.015 * (quality - 1)))
    knee = compression_ratio(KNEE_QUALITY)
    share_below_knee = (KNEE_QUALITY - quality) / (KNEE_QUALITY - 1)
    return float(knee * (LOWEST_RATE_RATIO / knee) ** share_below_knee)


@register_codec(CodecName.JPEG2000)
class Jpeg2000Codec(BoxPayloadCodec):
    """JP2 files; ``quality`` maps to a compression ratio (:func:`compression_ratio`).

    Alpha is a fourth (second, for gray) component of the same codestream, marked as opacity, so
    one rate covers all planes: the file grows by the plane's share and alpha is as precise as the
    colour (see the README). ICC, EXIF and XMP go into boxes Pillow does not write
    (:mod:`jpegplus.codecs.jp2meta`); the payload rides in a trailing ``uuid`` box.
    """

    extension = ".jp2"
    pillow_format = "JPEG2000"
    holds_iptc = True

    def save_options(self, quality: int, mode: str) -> dict[str, Any]:
        return {
            "quality_mode": "rates",
            "quality_layers": [compression_ratio(quality)],
            "irreversible": True,
            "mct": 1 if mode in ("RGB", "RGBA") else 0,
            "no_jp2": False,
        }

    def encode(
        self, image: np.ndarray, quality: int, *, alpha: np.ndarray | None = None, **metadata: Unpack[CarriedMetadata]
    ) -> bytes:
        """:meth:`PillowCodec.encode`, then the IPTC records of the image's IPTC segment in ExifTool's box."""
        data = super().encode(image, quality, alpha=alpha, **metadata)
        records = irb_records(segments_irb(metadata.get("segments") or ()))
        return write_metadata(data, exif=None, icc=None, xmp=None, iptc=records) if records else data

    def save(
        self, picture: Image.Image, options: dict[str, Any], *, exif: bytes | None, icc: bytes | None, xmp: bytes | None
    ) -> bytes:
        """Encode with Pillow, then add the metadata boxes (the pixel density among them)."""
        data = super().save(picture, options, exif=None, icc=None, xmp=None)
        return write_metadata(data, exif=exif, icc=icc, xmp=xmp, dpi=options.get("dpi"))
