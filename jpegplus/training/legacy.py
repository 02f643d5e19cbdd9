"""The JPEGs people really have, for training the enhance model: re-compressed (aligned or shifted
against the first grid), resized between two compressions, or written by jpegli or mozjpeg.

A file's quantization tables tell its last compression only; these pairs teach the network to
remove what the earlier ones left, under the condition the last file's tables give.
"""

from __future__ import annotations

import io

import numpy as np
import pyjpegli
from PIL import Image

from jpegplus.codecs.jpeg.trellis import cjpeg_default
from jpegplus.training import data

RESIZE_FILTERS = (Image.Resampling.BICUBIC, Image.Resampling.LANCZOS, Image.Resampling.BILINEAR)
RESIZE_SCALES = (0.5, 0.9)  # how far a photo was shrunk between its two compressions
# Shares of the kinds of file: one compression (data.random_jpeg: libjpeg or compress's trellis), one by jpegli,
# one by mozjpeg's cjpeg defaults, twice aligned, twice with the second grid shifted by 1-7 pixels, resized
# between the two. jpegli and mozjpeg hold large shares: adaptive quantization and trellis are where the
# tables mislead most (weights/jpeg-enhance.md and jpeg-enhance-light.md give the mix each was trained on).
KIND_SHARES = {
    "single": 0.25,
    "jpegli": 0.25,
    "mozjpeg": 0.20,
    "aligned": 0.08,
    "shifted": 0.14,
    "resized": 0.08,
}


def _decode(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as picture:
        return np.asarray(picture.convert("RGB"))


def _libjpeg(image: np.ndarray, rng: np.random.Generator, qualities: tuple[int, int]) -> bytes:
    """One libjpeg encode at a random quality and chroma subsampling, standard tables."""
    buffer = io.BytesIO()
    quality = _quality(rng, qualities)
    subsampling = data.SUBSAMPLINGS[rng.integers(len(data.SUBSAMPLINGS))]
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    return buffer.getvalue()


def _quality(rng: np.random.Generator, qualities: tuple[int, int]) -> int:
    return int(rng.integers(qualities[0], qualities[1] + 1))


def _jpegli(image: np.ndarray, rng: np.random.Generator, qualities: tuple[int, int]) -> bytes:
    quality = _quality(rng, qualities)
    rgb = np.ascontiguousarray(image)
    return pyjpegli.encode(rgb.tobytes(), rgb.shape[1], rgb.shape[0], quality)


def _resized(image: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize(size, resample))


def legacy_round_trip(
    image: np.ndarray, rng: np.random.Generator, qualities: tuple[int, int], kinds: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """One random legacy JPEG of ``image``: (decoded RGB, the clean reference of the same size, condition).

    ``kinds`` (default: all of :data:`KIND_SHARES`) are drawn in proportion to their shares. The condition is
    read from the last file's tables, as ``enhance`` reads it.
    """
    shares = {kind: share for kind, share in KIND_SHARES.items() if not kinds or kind in kinds}
    kind = rng.choice(list(shares), p=[share / sum(shares.values()) for share in shares.values()])
    reference = image
    if kind == "single":
        last, gray = data.random_jpeg(image, rng, qualities)
        reference = data.luma_planes(image) if gray else image
    elif kind == "jpegli":
        last = _jpegli(image, rng, qualities)
    elif kind == "mozjpeg":  # colour only: gray mozjpeg pairs cost gray libjpeg files more (weights/jpeg-enhance.md)
        last = cjpeg_default(image, _quality(rng, qualities))
    else:
        first = _decode(_libjpeg(image, rng, qualities))
        if kind == "shifted":
            dy, dx = (int(v) for v in rng.integers(0, 8, 2))
            dy, dx = (dy, dx) if dy or dx else (4, 4)
            first, reference = first[dy:, dx:], image[dy:, dx:]
        elif kind == "resized":
            scale = rng.uniform(*RESIZE_SCALES)
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            resample = RESIZE_FILTERS[rng.integers(len(RESIZE_FILTERS))]
            first, reference = _resized(first, size, resample), _resized(image, size, resample)
        last = _libjpeg(first, rng, qualities)
    decoded, condition = data.decode_jpeg(last)
    return decoded, reference, condition
