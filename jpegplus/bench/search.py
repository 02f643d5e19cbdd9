"""The plain JPEG of a given size, for comparisons at equal bytes."""

from __future__ import annotations

import numpy as np

from jpegplus.codecs import get_codec
from jpegplus.ratecontrol import bisect_quality


def plain_jpeg_at_size(image: np.ndarray, max_bytes: int) -> tuple[np.ndarray, int]:
    """Decode and size of the highest-quality plain JPEG within ``max_bytes`` (quality 1 if none fits)."""
    codec = get_codec("jpeg")
    best = bisect_quality(lambda quality: codec.encode(image, quality), lambda d: len(d) <= max_bytes, highest=True)
    data = best if best is not None else codec.encode(image, 1)
    return codec.decode(data), len(data)
