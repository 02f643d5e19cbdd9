"""Saliency-guided region quantization inside one standard baseline JPEG (after Prakash et al., DCC 2017).

The image is encoded once with a fine quantization table; then the DCT coefficients of each 8×8
block are requantized to a multiple ``k`` of the table step, ``k = 1`` where the saliency map is
high and up to ``max_factor`` where it is low. The tables in the file stay the fine ones, so any
JPEG decoder reads the result; entropy coding spends fewer bits on the coarse blocks::

    image ─ JPEG(q_fine) ─ DCT coefficients ─ c' = k_b · round(c / k_b) ─ Huffman-optimised JPEG
                 saliency map ─ per-block k_b ┘
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import jpeglib
import numpy as np

from jpegplus.codecs import get_codec

MAX_FACTOR = 6.0  # the coarsest step in the least salient blocks, in units of the fine step
KEEP_FRACTION = 0.4  # the most salient 40% of blocks keep the fine step


def block_factors(saliency: np.ndarray, blocks: tuple[int, int], max_factor: float) -> np.ndarray:
    """Per-block requantization factors (≥ 1) for a component of ``blocks`` blocks.

    Blocks are ranked by mean saliency; the top ``KEEP_FRACTION`` keep factor 1 and the rest
    coarsen linearly with their rank down to ``max_factor`` for the least salient block.
    """
    rows, cols = blocks
    per_block = cv2.resize(saliency, (cols, rows), interpolation=cv2.INTER_AREA)
    rank = per_block.argsort(axis=None).argsort().reshape(per_block.shape) / max(per_block.size - 1, 1)
    coarseness = np.clip((1.0 - KEEP_FRACTION - rank) / (1.0 - KEEP_FRACTION), 0.0, 1.0)
    return 1.0 + (max_factor - 1.0) * coarseness


def requantize(coefficients: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``c' = k · round(c / k)`` per block for the AC coefficients (DC untouched); int16 as stored."""
    scaled = factors[:, :, None, None]
    out = np.round(coefficients / scaled) * scaled
    out = np.round(out).astype(np.int16)
    out[:, :, 0, 0] = coefficients[:, :, 0, 0]
    return out


def encode_salient(
    image: np.ndarray,
    quality: int,
    saliency: np.ndarray,
    *,
    max_factor: float = MAX_FACTOR,
    exif: bytes | None = None,
    icc: bytes | None = None,
) -> bytes:
    """A baseline JPEG with the fine tables of ``quality`` and coarser blocks where saliency is low.

    EXIF and ICC segments of the fine encode are copied into the result.
    """
    fine = get_codec("jpeg").encode(image, quality, exif=exif, icc=icc)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "fine.jpg", Path(folder) / "salient.jpg"
        source.write_bytes(fine)
        jpeg = jpeglib.read_dct(str(source))
        jpeg.markers = [m for m in jpeg.markers if m.type != jpeglib.JPEG_APP0]  # libjpeg writes its own JFIF
        for name in ("Y", "Cb", "Cr"):
            component = getattr(jpeg, name)
            if component is not None:
                setattr(jpeg, name, requantize(component, block_factors(saliency, component.shape[:2], max_factor)))
        jpeg.write_dct(str(target), flags=["+OPTIMIZE_CODING"])
        return target.read_bytes()


def prefilter(image: np.ndarray, saliency: np.ndarray, *, sigma: float = 1.2) -> np.ndarray:
    """For codecs without per-block control: blur the non-salient regions so they cost fewer bits."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)
    weight = saliency if image.ndim == 2 else saliency[:, :, None]
    mixed = weight * image.astype(np.float32) + (1.0 - weight) * blurred.astype(np.float32)
    return np.clip(np.round(mixed), 0, 255).astype(np.uint8)
