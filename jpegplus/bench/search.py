"""Quality searches: the plain JPEG of a given size, in the fewest encodes (bisection)."""

from __future__ import annotations

import numpy as np

from jpegplus.codecs import get_codec


def plain_jpeg_at_size(image: np.ndarray, max_bytes: int) -> tuple[np.ndarray, int]:
    """Decode of the highest-quality plain JPEG that fits in ``max_bytes`` (quality 1 if none fits)."""
    codec = get_codec("jpeg")
    low, high, best = 1, 100, codec.encode(image, 1)
    while low <= high:
        middle = (low + high) // 2
        data = codec.encode(image, middle)
        if len(data) <= max_bytes:
            best, low = data, middle + 1
        else:
            high = middle - 1
    return codec.decode(best), len(best)
