"""JPEG quantization tables: the IJG standard tables, jpegplus's restoration tables, quality estimates
and the networks' condition, which is on libjpeg's scale for every codec."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image

Table = Sequence[int] | np.ndarray  # 64 steps in natural order, as Pillow reads them or numpy holds them

# ITU-T T.81 Annex K tables (natural row order), the base of libjpeg's quality scale.
STANDARD_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
)  # fmt: skip
STANDARD_CHROMA = np.array(
    [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    ],
    dtype=np.float64,
)  # fmt: skip


def _quality_scale(quality: int) -> int:
    """libjpeg's percentage scale factor for a 1–100 quality (integer arithmetic, as libjpeg)."""
    quality = min(max(int(quality), 1), 100)
    return 5000 // quality if quality < 50 else 200 - 2 * quality


# Tables for files that jpegplus's network restores (compress's full mode for JPEG). Annex K's
# tables weight steps for a viewer's eye; once a network removes the blocking, fidelity per byte
# is what counts, so the shape is flattened (each step's ratio to the table's geometric mean raised
# to RESTORATION_SHAPE) and chroma gets finer steps. Chosen on 10 Urban100 training photos and 4
# scikit-image photos, with the artifact model restoring: -11% BD-rate (PSNR) against standard
# tables restored by the same model, MS-SSIM +2.5%, and flatter or finer-chroma tables cost more
# MS-SSIM than they gained PSNR.
RESTORATION_SHAPE = 0.5
RESTORATION_CHROMA = 0.55


def _scaled(base: np.ndarray, quality: int) -> np.ndarray:
    """``base`` at libjpeg's ``quality`` scale, rounded as libjpeg and kept baseline (1–255)."""
    return np.clip(np.floor((base * _quality_scale(quality) + 50.0) / 100.0), 1, 255)


def standard_tables(quality: int) -> tuple[np.ndarray, np.ndarray]:
    """The luma and chroma tables libjpeg writes for ``quality`` (baseline, 1–255)."""
    return _scaled(STANDARD_LUMA, quality), _scaled(STANDARD_CHROMA, quality)


def restoration_tables(quality: int, shape: float = RESTORATION_SHAPE) -> tuple[np.ndarray, np.ndarray]:
    """Luma and chroma tables for a JPEG that jpegplus's network will restore, on libjpeg's quality scale
    (``shape``: the exponent flattening Annex K's tables, 1 keeps their shape)."""

    def flattened(base: np.ndarray) -> np.ndarray:
        mean = np.exp(np.log(base).mean())
        return mean * (base / mean) ** shape

    return _scaled(flattened(STANDARD_LUMA), quality), _scaled(flattened(STANDARD_CHROMA) * RESTORATION_CHROMA, quality)


def estimate_quality(luma_table: Table) -> float:
    """Estimate the libjpeg quality whose standard luma table best matches ``luma_table``.

    >>> round(estimate_quality(standard_tables(75)[0]))
    75
    """
    table = np.asarray(luma_table, dtype=np.float64)
    qualities = np.arange(1, 101)
    errors = [np.abs(np.log(standard_tables(int(q))[0]) - np.log(table)).mean() for q in qualities]
    return float(qualities[int(np.argmin(errors))])


def is_standard(luma_table: Table) -> bool:
    """Whether ``luma_table`` is libjpeg's standard luma table at some quality (jpegli, mozjpeg, many cameras
    and editors write their own).

    >>> is_standard(standard_tables(75)[0]), is_standard(restoration_tables(75)[0])
    (True, False)
    """
    table = np.asarray(luma_table, dtype=np.float64).reshape(1, -1)
    return bool((_standard_lumas() == table).all(axis=1).any())


@functools.cache
def _standard_lumas() -> np.ndarray:
    """libjpeg's standard luma tables of qualities 1–100, one per row."""
    return np.stack([standard_tables(quality)[0] for quality in range(1, 101)])


def _strength(table: Table) -> float:
    """Map a table's mean step (1–255) to [0, 1] on a log scale."""
    return math.log(float(np.mean(table))) / math.log(255.0)


def condition_from_tables(luma_table: Table, chroma_table: Table | None) -> tuple[float, float]:
    """The networks' condition: normalised luma and chroma quantizer strength.

    A grayscale JPEG has no chroma table; its luma strength stands in for both.
    """
    luma = _strength(luma_table)
    return luma, _strength(chroma_table) if chroma_table is not None else luma


def condition_from_quality(quality: int) -> tuple[float, float]:
    """The condition of a libjpeg-standard JPEG at ``quality``, used for codecs without tables."""
    luma, chroma = standard_tables(quality)
    return condition_from_tables(luma, chroma)


def condition_from_picture(picture: Image.Image) -> tuple[float, float] | None:
    """The condition of an opened JPEG read from its quantization tables, or ``None`` without tables."""
    tables = getattr(picture, "quantization", None)
    return condition_from_tables(tables[0], tables.get(1)) if tables else None
