"""Time and peak memory of compress + decompress on one large (e.g. 24-megapixel) image."""

from __future__ import annotations

import math
import resource
import time

import numpy as np
from PIL import Image
from skimage import data

from jpegplus import pipeline


def synthetic_photo(megapixels: float) -> np.ndarray:
    """scikit-image's astronaut scaled to about ``megapixels`` at 3:2."""
    width = int(round(math.sqrt(megapixels * 1e6 * 1.5) / 2)) * 2
    height = int(round(width / 1.5 / 2)) * 2
    return np.asarray(Image.fromarray(data.astronaut()).resize((width, height), Image.Resampling.BICUBIC))


def measure_large(megapixels: float, codec: str, mode: str, quality: int) -> dict[str, float]:
    """Seconds for compress and decompress and the process's peak RSS in MB."""
    image = synthetic_photo(megapixels)
    start = time.perf_counter()
    packed = pipeline.compress(image, codec=codec, quality=quality, mode=mode)
    middle = time.perf_counter()
    restored = pipeline.decompress(packed)
    end = time.perf_counter()
    if restored.shape != image.shape:
        msg = f"decompressed shape {restored.shape} differs from {image.shape}"
        raise RuntimeError(msg)
    return {
        "width": image.shape[1],
        "height": image.shape[0],
        "compress_s": middle - start,
        "decompress_s": end - middle,
        "bytes": len(packed),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
