"""Ordinary and damaged files of the kinds people have, through compress, decompress, enhance and info."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

import jpegplus
from jpegplus.errors import InvalidInputError
from jpegplus.inspect import describe

CODECS = ["jpeg", "webp", "avif", "jpeg2000"]


def encoded(picture: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, image_format, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def odd_inputs(photo: np.ndarray) -> dict[str, bytes]:
    deep = photo.astype(np.uint16) * 257
    return {
        "16-bit RGB PNG": cv2.imencode(".png", deep[:, :, ::-1])[1].tobytes(),
        "16-bit RGB TIFF": cv2.imencode(".tif", deep[:, :, ::-1])[1].tobytes(),
        "16-bit gray PNG": cv2.imencode(".png", deep[:, :, 1])[1].tobytes(),
        "CMYK JPEG": encoded(Image.fromarray(photo).convert("CMYK"), "JPEG", quality=95),
        "progressive JPEG": encoded(Image.fromarray(photo), "JPEG", quality=95, progressive=True),
        "palette PNG": encoded(Image.fromarray(photo).convert("P"), "PNG"),
        "bilevel PNG": encoded(Image.fromarray(photo[:, :, 0] > 128), "PNG"),
    }


@pytest.mark.parametrize("codec", ["jpeg", "webp"])
def test_odd_inputs_compress_and_decompress(codec: str, odd_inputs: dict[str, bytes], photo: np.ndarray) -> None:
    for name, data in odd_inputs.items():
        restored = jpegplus.decompress(jpegplus.compress(data, codec=codec, quality=80, mode="full"))
        gray = name.startswith(("16-bit gray", "bilevel"))
        assert restored.shape == (photo.shape[:2] if gray else photo.shape), name


@pytest.mark.parametrize("name", ["CMYK JPEG", "progressive JPEG"])
def test_enhance_takes_cmyk_and_progressive_jpegs(name: str, odd_inputs: dict[str, bytes], photo: np.ndarray) -> None:
    enhanced = jpegplus.enhance(odd_inputs[name])
    assert enhanced.shape == photo.shape and np.abs(enhanced.astype(int) - photo).mean() < 6


@pytest.mark.parametrize("image_format", ["GIF", "TIFF", "WEBP", "PNG"])
def test_animations_and_pages_are_refused_rather_than_cut_to_their_first_frame(
    image_format: str, photo: np.ndarray
) -> None:
    frames = [Image.fromarray(np.roll(photo, 16 * shift, axis=1)) for shift in range(3)]
    data = encoded(frames[0], image_format, save_all=True, append_images=frames[1:])
    for operation in (lambda: jpegplus.compress(data, codec="jpeg"), lambda: jpegplus.enhance(data)):
        with pytest.raises(InvalidInputError, match=f"a {image_format} file of 3 frames"):
            operation()
    chosen = Image.open(io.BytesIO(data))
    chosen.seek(2)  # a picture object at the frame its owner chose is that frame
    restored = jpegplus.decompress(jpegplus.compress(chosen, codec="jpeg", quality=90, mode="full"))
    assert np.abs(restored.astype(int) - np.asarray(chosen.convert("RGB"), int)).mean() < 4


def test_a_camera_mpo_jpeg_is_its_first_picture(photo: np.ndarray) -> None:
    data = encoded(Image.fromarray(photo), "MPO", save_all=True, append_images=[Image.fromarray(photo[:32, :32])])
    assert Image.open(io.BytesIO(data)).n_frames == 2
    assert jpegplus.enhance(data).shape == photo.shape


@pytest.mark.parametrize("codec", CODECS)
def test_damaged_jpegplus_files_give_only_jpegplus_errors(codec: str, photo: np.ndarray) -> None:
    data = jpegplus.compress(photo[:32, :48], codec=codec, quality=50, mode="full")
    rng = np.random.default_rng(CODECS.index(codec))
    refused = 0
    for _ in range(25):
        damaged = bytearray(data)
        for position in rng.integers(len(data) // 4, len(data), 3):  # headers mostly intact: the decoders run
            damaged[position] ^= 1 << int(rng.integers(0, 8))
        for attempt in (lambda d: jpegplus.decompress(d), describe):
            try:
                attempt(bytes(damaged))
            except jpegplus.JpegPlusError:
                refused += 1
    for cut in (len(data) // 3, len(data) - 5):
        with pytest.raises(jpegplus.JpegPlusError):
            jpegplus.decompress(data[:cut])
    assert refused >= 5  # and every failure was a JpegPlusError: anything else fails the test
