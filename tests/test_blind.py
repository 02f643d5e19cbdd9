from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from skimage import data

import jpegplus
from conftest import jpeg_bytes
from jpegplus.blind import BlindEstimate, estimate
from jpegplus.codecs import get_codec


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut()[:320, :384])


@pytest.mark.parametrize("quality", [10, 30, 75])
@pytest.mark.parametrize("offset", [(0, 0), (3, 5), (7, 1)])
def test_quality_and_grid_read_back_from_decoded_pixels(
    scene: np.ndarray, quality: int, offset: tuple[int, int]
) -> None:
    decoded = get_codec("jpeg").decode(jpeg_bytes(scene, quality))
    found = estimate(decoded[(8 - offset[0]) % 8 :, (8 - offset[1]) % 8 :])
    assert found.offset == offset
    assert found.quality is not None and abs(found.quality - quality) <= 1  # 49/50, 74/75 share their tables


@pytest.mark.parametrize("offset", [(0, 0), (3, 5)])
def test_grid_of_an_image_larger_than_the_measured_window(offset: tuple[int, int]) -> None:
    # 540×780: the centred window starts off the image's 8-pixel grid (at column 130)
    large = np.ascontiguousarray(np.pad(data.astronaut(), ((14, 14), (134, 134), (0, 0)), mode="reflect"))
    decoded = get_codec("jpeg").decode(jpeg_bytes(large, 20))
    found = estimate(decoded[(8 - offset[0]) % 8 :, (8 - offset[1]) % 8 :])
    assert found == BlindEstimate(20, offset)


@pytest.mark.parametrize("turns", [1, 3])
def test_pixels_of_a_jpeg_turned_a_quarter_read_back_and_are_enhanced(scene: np.ndarray, turns: int) -> None:
    """A portrait photo shown upright by its EXIF orientation: each block's coefficients are transposed."""
    turned = np.ascontiguousarray(np.rot90(get_codec("jpeg").decode(jpeg_bytes(scene, 30)), turns))
    assert estimate(turned).quality in (29, 30, 31)
    reference = np.rot90(scene, turns).astype(float)
    enhanced = jpegplus.enhance(turned)
    assert np.abs(enhanced - reference).mean() < 0.9 * np.abs(turned - reference).mean()  # measured 0.80


def test_gray_pixels(scene: np.ndarray) -> None:
    gray = np.asarray(Image.fromarray(scene).convert("L"))
    assert estimate(get_codec("jpeg").decode(jpeg_bytes(gray, 20))).quality == 20


@pytest.mark.parametrize(
    "make",
    [
        lambda s: np.asarray(Image.fromarray(s).reduce(3)),  # never compressed (averaged away)
        lambda s: np.asarray(Image.fromarray(get_codec("jpeg").decode(jpeg_bytes(s, 20))).resize((301, 250))),
        lambda s: s[:12, :12],  # too small to tell
    ],
)
def test_no_estimate_without_a_lattice(scene: np.ndarray, make) -> None:
    assert estimate(make(scene)).quality is None
