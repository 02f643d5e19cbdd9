"""Clamping a restored JPEG's luma and chroma back into the quantization cells its file proves."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import jpeg_bytes, psnr
from jpegplus.codecs.jpeg.consistency import JpegCells, project
from jpegplus.codecs.jpeg.quantization import standard_tables
from jpegplus.io import to_image, to_tensor


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("subsampling", "span", "mcu_rows"), [("4:4:4", (1, 1), 8), ("4:2:2", (1, 2), 8), ("4:2:0", (2, 2), 16)]
)
def test_reads_each_component_s_table_grid_and_span(
    subsampling: str, span: tuple[int, int], mcu_rows: int, photo: np.ndarray
) -> None:
    cells = JpegCells.read(jpeg_bytes(photo[:90, :101], 50, subsampling=subsampling))
    luma, blue, red = cells.components
    luma_table, chroma_table = standard_tables(50)
    assert luma.table.flatten().tolist() == luma_table.tolist()
    assert blue.table.flatten().tolist() == red.table.flatten().tolist() == chroma_table.tolist()
    assert luma.span == (1, 1) and blue.span == red.span == span and cells.mcu_rows == mcu_rows
    assert luma.coefficients.shape == (8, 8, 12, 13)  # ceil(90 / 8), ceil(101 / 8)
    assert blue.coefficients.shape == (8, 8, -(-90 // (8 * span[0])), -(-101 // (8 * span[1])))


@pytest.mark.parametrize("gray", [False, True])
def test_plain_decode_is_already_consistent(gray: bool, photo: np.ndarray, gray_photo: np.ndarray) -> None:
    image = gray_photo if gray else photo
    data = jpeg_bytes(image, 30, subsampling="4:4:4")
    decoded = to_tensor(_decode(data))
    projected = project(decoded, JpegCells.read(data))
    assert projected.shape == decoded.shape
    assert (projected - decoded).abs().mean() * 255 < 0.1  # only the decoder's rounding lies outside the cells


def test_subsampled_chroma_of_a_plain_decode_moves_little(photo: np.ndarray) -> None:
    """4:2:0 chroma is measured on 2×2 means of the decoder's interpolated planes: near, not on, its cells."""
    data = jpeg_bytes(photo, 30)
    decoded = to_tensor(_decode(data))
    assert (project(decoded, JpegCells.read(data)) - decoded).abs().mean() * 255 < 0.5


@pytest.mark.parametrize("gray", [False, True])
def test_clamping_removes_error_the_file_rules_out(gray: bool, photo: np.ndarray, gray_photo: np.ndarray) -> None:
    image = gray_photo[:77, :93] if gray else photo[:77, :93]  # sizes off the 8-pixel grid
    data = jpeg_bytes(image, 90)  # fine steps: narrow cells
    noise = np.random.default_rng(0).normal(0, 8, image.shape[:2])
    noisy = np.clip(np.round(_decode(data) + (noise if gray else noise[:, :, None])), 0, 255).astype(np.uint8)
    projected = to_image(project(to_tensor(noisy), JpegCells.read(data)), gray=gray)
    assert projected.shape == image.shape
    assert psnr(projected, image) > psnr(noisy, image) + 3


@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:0"])
def test_clamping_chroma_removes_colour_error_the_file_rules_out(subsampling: str, photo: np.ndarray) -> None:
    image = photo[:77, :93]
    data = jpeg_bytes(image, 90, subsampling=subsampling)
    decoded = _decode(data)
    noise = np.random.default_rng(1).normal(0, 6, (39, 47)).repeat(2, 0).repeat(2, 1)[:77, :93]  # what 4:2:0 keeps
    tinted = decoded.astype(np.float64) + noise[:, :, None] * np.array([1.0, -1.0, 1.0])  # colour, little luma
    tinted_image = np.clip(np.round(tinted), 0, 255).astype(np.uint8)
    cells = JpegCells.read(data)
    luma_only = to_image(project(to_tensor(tinted_image), cells.luma()), gray=False)
    both = to_image(project(to_tensor(tinted_image), cells), gray=False)
    assert psnr(both, image) > psnr(luma_only, image) + 1


def test_strips_change_nothing(photo: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    data = jpeg_bytes(photo[:93], 20)
    restored = to_tensor(_decode(data)) + 0.02  # off the cells everywhere
    whole = project(restored, JpegCells.read(data))
    monkeypatch.setattr("jpegplus.codecs.jpeg.consistency.STRIP_ROWS", 3)
    assert torch.equal(project(restored, JpegCells.read(data)), whole)
    cells = JpegCells.read(data)
    bands = [project(restored[:, :, top : top + 32], cells, first_row=top) for top in range(0, 93, 32)]
    assert torch.equal(torch.cat(bands, dim=2), whole)  # bands on the 4:2:0 grid of 16 rows


def test_rgb_and_cmyk_jpegs_have_no_cells(photo: np.ndarray) -> None:
    assert JpegCells.read(jpeg_bytes(photo, 50, keep_rgb=True)) is None


def test_cmyk_jpeg_has_nothing_to_clamp(photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).convert("CMYK").save(buffer, "JPEG", quality=50)
    assert JpegCells.read(buffer.getvalue()) is None
    image = to_tensor(photo)
    assert project(image, None) is image


def test_coefficients_are_read_without_the_metadata_segments(photo: np.ndarray) -> None:
    """jpeglib never sees APPn or COM segments (a malformed one killed the process), except Adobe's colour transform."""
    from jpegplus.codecs.jpeg.markers import coefficient_stream

    data = jpeg_bytes(photo[:40, :48], 50)
    app0_claiming_2 = data[:2] + b"\xff\xe0\x00\x02JFIF\x00" + b"\xff\xe1\x00\x08Exif\x00\x00" + data[2:]
    adobe = b"\xff\xee\x00\x10Adobe\x00\x64\x00\x00\x00\x00\x01xx"
    stream = coefficient_stream(app0_claiming_2[:2] + adobe + app0_claiming_2[2:])
    assert stream is not None and b"Exif" not in stream and b"JFIF" not in stream
    assert stream[2:18] == b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x01"
    cells = JpegCells.read(app0_claiming_2)
    assert cells is not None and torch.equal(
        cells.components[0].coefficients, JpegCells.read(data).components[0].coefficients
    )
    assert coefficient_stream(data[:200]) is None  # no scan: nothing for jpeglib


def test_libjpeg_messages_on_the_coefficients_stay_off_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    """Found by fuzzing: jpeglib reads the coefficients on first use, which was after stderr was captured."""
    corpus = Path(__file__).parent / "fuzz_corpus"
    damaged = (corpus / "jpeg-extraneous-bytes-before-eoi.jpg").read_bytes()  # "3 extraneous bytes before 0xd9"
    capfd.readouterr()
    cells = JpegCells.read(damaged)
    assert cells is not None and cells.components[0].coefficients.shape == (8, 8, 3, 5)
    assert capfd.readouterr().err == ""
