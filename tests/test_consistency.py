"""Clamping a restored JPEG's luma back into the quantization cells its file proves."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import jpeg_bytes, psnr
from jpegplus.codecs.jpeg.consistency import LumaCells, project
from jpegplus.codecs.jpeg.quantization import standard_tables
from jpegplus.io import to_image, to_tensor


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_reads_the_luma_table_and_block_grid(photo: np.ndarray) -> None:
    cells = LumaCells.read(jpeg_bytes(photo[:90, :101], 50))
    assert cells.table.flatten().tolist() == standard_tables(50)[0].tolist()
    assert cells.coefficients.shape[:2] == (8, 8)
    assert cells.coefficients.shape[2] * 8 >= 90 and cells.coefficients.shape[3] * 8 >= 101


@pytest.mark.parametrize("gray", [False, True])
def test_plain_decode_is_already_consistent(gray: bool, photo: np.ndarray, gray_photo: np.ndarray) -> None:
    image = gray_photo if gray else photo
    data = jpeg_bytes(image, 30, subsampling="4:4:4")
    decoded = to_tensor(_decode(data))
    projected = project(decoded, LumaCells.read(data))
    assert projected.shape == decoded.shape
    assert (projected - decoded).abs().mean() * 255 < 0.1  # only the decoder's rounding lies outside the cells


@pytest.mark.parametrize("gray", [False, True])
def test_clamping_removes_error_the_file_rules_out(gray: bool, photo: np.ndarray, gray_photo: np.ndarray) -> None:
    image = gray_photo[:77, :93] if gray else photo[:77, :93]  # sizes off the 8-pixel grid
    data = jpeg_bytes(image, 90)  # fine steps: narrow cells
    noise = np.random.default_rng(0).normal(0, 8, image.shape[:2])
    noisy = np.clip(np.round(_decode(data) + (noise if gray else noise[:, :, None])), 0, 255).astype(np.uint8)
    projected = to_image(project(to_tensor(noisy), LumaCells.read(data)), gray=gray)
    assert projected.shape == image.shape
    assert psnr(projected, image) > psnr(noisy, image) + 3


def test_strips_change_nothing(photo: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    data = jpeg_bytes(photo[:93], 20)
    restored = to_tensor(_decode(data)) + 0.02  # off the cells everywhere
    whole = project(restored, LumaCells.read(data))
    monkeypatch.setattr("jpegplus.codecs.jpeg.consistency.STRIP_ROWS", 3)
    assert torch.equal(project(restored, LumaCells.read(data)), whole)


def test_cmyk_jpeg_has_no_luma_to_clamp(photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).convert("CMYK").save(buffer, "JPEG", quality=50)
    assert LumaCells.read(buffer.getvalue()) is None
    image = to_tensor(photo)
    assert project(image, None) is image


def test_coefficients_are_read_without_the_metadata_segments(photo: np.ndarray) -> None:
    """jpeglib never sees APPn or COM segments (a malformed one killed the process), except Adobe's colour transform."""
    from jpegplus.codecs.jpeg.consistency import coefficient_stream

    data = jpeg_bytes(photo[:40, :48], 50)
    app0_claiming_2 = data[:2] + b"\xff\xe0\x00\x02JFIF\x00" + b"\xff\xe1\x00\x08Exif\x00\x00" + data[2:]
    adobe = b"\xff\xee\x00\x10Adobe\x00\x64\x00\x00\x00\x00\x01xx"
    stream = coefficient_stream(app0_claiming_2[:2] + adobe + app0_claiming_2[2:])
    assert stream is not None and b"Exif" not in stream and b"JFIF" not in stream
    assert stream[2:18] == b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01"
    cells = LumaCells.read(app0_claiming_2)
    assert cells is not None and torch.equal(cells.coefficients, LumaCells.read(data).coefficients)
    assert coefficient_stream(data[:200]) is None  # no scan: nothing for jpeglib


def test_libjpeg_messages_on_the_coefficients_stay_off_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """Found by fuzzing: jpeglib reads the coefficients on first use, which was after stderr was captured."""
    corpus = Path(__file__).parent / "fuzz_corpus"
    damaged = (corpus / "jpeg-extraneous-bytes-before-eoi.jpg").read_bytes()  # "3 extraneous bytes before 0xd9"
    capfd.readouterr()
    cells = LumaCells.read(damaged)
    assert cells is not None and cells.coefficients.shape == (8, 8, 3, 5)
    assert capfd.readouterr().err == ""
