from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from conftest import jpeg_bytes
from jpegplus.codecs.jpeg.quantization import (
    condition_from_quality,
    condition_from_tables,
    estimate_quality,
    restoration_tables,
    standard_tables,
)


@pytest.mark.parametrize("quality", [5, 10, 30, 50, 75, 90, 95])
def test_standard_tables_match_libjpeg(quality: int, photo: np.ndarray) -> None:
    tables = Image.open(io.BytesIO(jpeg_bytes(photo, quality))).quantization
    luma, chroma = standard_tables(quality)
    assert list(luma.astype(int)) == list(tables[0])
    assert list(chroma.astype(int)) == list(tables[1])


@pytest.mark.parametrize("quality", [7, 23, 64, 88])
def test_estimate_quality_of_pillow_jpeg(quality: int, photo: np.ndarray) -> None:
    tables = Image.open(io.BytesIO(jpeg_bytes(photo, quality))).quantization
    assert estimate_quality(tables[0]) == quality


def test_condition_is_monotonic_and_bounded() -> None:
    values = [condition_from_quality(q)[0] for q in range(1, 101)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))
    assert 0.0 <= min(values) and max(values) <= 1.0


def test_gray_condition_repeats_luma() -> None:
    luma, _ = standard_tables(40)
    assert condition_from_tables(luma, None) == (condition_from_tables(luma, luma)[0],) * 2


def test_restoration_tables_are_flatter_with_finer_chroma() -> None:
    for quality in (10, 50, 90):
        (luma, chroma), (standard_luma, standard_chroma) = restoration_tables(quality), standard_tables(quality)
        assert luma.max() / luma.min() < standard_luma.max() / standard_luma.min()
        assert chroma.mean() < standard_chroma.mean()
        assert luma.min() >= 1 and max(luma.max(), chroma.max()) <= 255  # baseline
    means = [restoration_tables(q)[0].mean() for q in range(1, 101)]
    assert all(a >= b for a, b in zip(means, means[1:], strict=False))  # libjpeg's scale: higher quality, finer
