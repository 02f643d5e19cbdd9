from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from jpegplus.errors import InvalidInputError, OutputError
from jpegplus.io import load_image, read_file, read_stream, to_image, to_tensor, write_atomic, write_together


def test_sources_agree(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "p.png"
    Image.fromarray(photo).save(path)
    for source in (photo, Image.fromarray(photo), path, str(path), path.read_bytes()):
        assert np.array_equal(load_image(source).pixels, photo)


def test_exif_and_icc_are_kept(photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", exif=exif.tobytes(), icc_profile=b"icc-bytes")
    loaded = load_image(buffer.getvalue())
    kept = Image.Exif()
    kept.load(loaded.exif)
    assert kept[0x0112] == 6
    assert loaded.icc == b"icc-bytes"


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "uint8"),
        (np.zeros((4, 4, 5), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
    ],
)
def test_bad_arrays(array: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        load_image(array)


def test_tensor_round_trip_clamps_and_rounds(photo: np.ndarray) -> None:
    assert np.array_equal(to_image(to_tensor(photo), gray=False), photo)
    tensor = to_tensor(photo) * 2 - 0.5
    assert to_image(tensor, gray=False).dtype == np.uint8
    gray = to_image(to_tensor(photo[:, :, 0]), gray=True)
    assert np.array_equal(gray, photo[:, :, 0])


def test_write_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomic(target, b"one")
    with pytest.raises(OutputError, match="exists"):
        write_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    write_atomic(target, b"two", force=True)
    assert target.read_bytes() == b"two"
    with pytest.raises(OutputError, match="input"):
        write_atomic(target, b"three", force=True, inputs=(target,))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_write_atomic_unwritable_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write"):
        write_atomic(tmp_path / "missing" / "out.bin", b"x")


def encoded(picture: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, image_format, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_colour_is_reduced_with_a_warning(
    suffix: str, photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    deep = photo.astype(np.uint16) << 8 | 0x40  # the 8-bit photo in the upper byte
    with caplog.at_level(logging.WARNING):
        loaded = load_image(cv2.imencode(suffix, deep[:, :, ::-1])[1].tobytes())
    assert np.array_equal(loaded.pixels, photo) and "reduced to 8" in caplog.text


def test_16_bit_gray_is_rounded_to_8_bits_with_a_warning(
    gray_photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    deep = gray_photo.astype(np.uint16) * 257
    with caplog.at_level(logging.WARNING):
        loaded = load_image(cv2.imencode(".png", deep)[1].tobytes())  # Pillow mode I;16
    assert np.array_equal(loaded.pixels, gray_photo) and "reduced to 8" in caplog.text


def test_a_16_bit_gray_pngs_transparency_key_becomes_alpha(gray_photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(gray_photo.astype(np.uint16) * 257).save(buffer, "PNG", transparency=257 * int(gray_photo[0, 0]))
    loaded = load_image(buffer.getvalue())  # Pillow mode I;16 with a 16-bit tRNS key
    keyed = gray_photo == gray_photo[0, 0]
    assert loaded.alpha is not None and np.array_equal(loaded.alpha == 0, keyed) and loaded.alpha[~keyed].min() == 255


def test_a_closed_pil_image_gets_a_one_line_error(tmp_path: Path, photo: np.ndarray) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    with Image.open(path) as lazy:  # never loaded: its file is closed when the block ends
        pass
    loaded = Image.open(path)
    loaded.load()
    loaded.close()
    for picture in (lazy, loaded):
        with pytest.raises(InvalidInputError, match="the PIL image is closed"):
            load_image(picture)


def test_8_bit_input_gives_no_warning(photo: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        load_image(encoded(Image.fromarray(photo), "PNG"))
    assert caplog.text == ""


def test_cmyk_jpeg_is_read_as_rgb(photo: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    cmyk = Image.fromarray(photo).convert("CMYK")  # Pillow writes Adobe's inverted CMYK with an APP14 segment
    with caplog.at_level(logging.WARNING):
        loaded = load_image(encoded(cmyk, "JPEG", quality=95))
    assert loaded.pixels.shape == photo.shape and np.abs(loaded.pixels.astype(int) - photo).mean() < 4
    assert "without ICC profile" in caplog.text


def test_progressive_palette_and_bilevel_inputs(photo: np.ndarray) -> None:
    progressive = load_image(encoded(Image.fromarray(photo), "JPEG", quality=95, progressive=True))
    assert progressive.pixels.shape == photo.shape and np.abs(progressive.pixels.astype(int) - photo).mean() < 4
    palette = Image.fromarray(photo).convert("P")
    assert np.array_equal(load_image(encoded(palette, "PNG")).pixels, np.asarray(palette.convert("RGB")))
    bilevel = load_image(encoded(Image.fromarray(photo[:, :, 0] > 128), "PNG")).pixels
    assert bilevel.ndim == 2 and set(np.unique(bilevel)) == {0, 255}


def test_floating_point_images_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="floating-point"):
        load_image(encoded(Image.fromarray(np.zeros((4, 4), np.float32)), "TIFF"))


def test_32_bit_integer_images_are_refused_and_16_bit_pgm_is_scaled(gray_photo: np.ndarray) -> None:
    """A 32-bit integer image has no white level (values 0-255 read as 16-bit went black); a 16-bit PGM, which
    Pillow reads in the same mode but scaled to 0-65535, is 16-bit."""
    integers = Image.fromarray(gray_photo.astype(np.int32), "I")
    for source in (integers, encoded(integers, "TIFF")):
        with pytest.raises(InvalidInputError, match="32-bit integer"):
            load_image(source)
    deep = gray_photo.astype(">u2") * 257
    pgm = b"P5 %d %d 65535\n" % (gray_photo.shape[1], gray_photo.shape[0]) + deep.tobytes()
    assert np.array_equal(load_image(pgm).pixels, gray_photo)


def test_max_pixels_above_pillows_bomb_limit_decides(photo: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow refuses images over twice its ``MAX_IMAGE_PIXELS`` when opening them; a larger ``max_pixels`` given
    to jpegplus lifts that for the file, and nothing else."""
    pixels = photo.shape[0] * photo.shape[1]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pixels // 4)
    data = encoded(Image.fromarray(photo), "PNG")
    with pytest.raises(InvalidInputError, match="decompression bomb"):
        load_image(data)  # no limit of its own: Pillow's stands
    assert np.array_equal(load_image(data, max_pixels=pixels).pixels, photo)
    assert Image.MAX_IMAGE_PIXELS == pixels // 4
    with pytest.raises(InvalidInputError, match="over the limit"):
        load_image(data, max_pixels=pixels - 1)


def test_a_12_bit_jpeg_is_refused_by_its_precision(photo: np.ndarray) -> None:
    data = bytearray(encoded(Image.fromarray(photo), "JPEG", quality=90))
    frame = data.index(b"\xff\xc0")
    data[frame + 4] = 12  # the frame header's sample precision, as a 12-bit (extended process) file says
    with pytest.raises(InvalidInputError, match="a JPEG of 12 bits per sample"):
        load_image(bytes(data))


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_missing_only_its_end_marker_is_read_whole(progressive: bool, caplog: pytest.LogCaptureFixture) -> None:
    buffer = io.BytesIO()  # the whole astronaut: Pillow decodes a small baseline file without its EOI itself
    Image.fromarray(skimage.data.astronaut()).save(buffer, "JPEG", quality=80, progressive=progressive)
    whole = buffer.getvalue()
    with caplog.at_level(logging.WARNING):
        unended = load_image(whole[:-2])
    assert np.array_equal(unended.pixels, load_image(whole).pixels)
    assert "lacks its end marker" in caplog.text


def test_a_jpeg_cut_inside_or_between_scans_is_refused(photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=80, progressive=True)
    whole = buffer.getvalue()
    last_scan = whole.rindex(b"\xff\xda")
    for cut in (whole[: len(whole) // 2], whole[:last_scan], whole[:-3]):
        with pytest.raises(InvalidInputError, match="the JPEG is truncated"):
            load_image(cut)


def test_array_with_alpha_and_picture_of_it_agree(photo: np.ndarray) -> None:
    rgba = np.dstack([photo, np.arange(photo.shape[1], dtype=np.uint8)[None].repeat(photo.shape[0], 0)])
    from_array, from_png = load_image(rgba), load_image(encoded(Image.fromarray(rgba), "PNG"))
    assert np.array_equal(from_array.array, rgba) and np.array_equal(from_png.array, rgba)
    assert from_array.array.flags.c_contiguous and from_array.pixels.shape == photo.shape


def test_write_together_is_all_or_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write into"):
        write_together([(tmp_path / "a.bin", b"a"), (tmp_path / "missing" / "b.bin", b"b")])
    assert list(tmp_path.iterdir()) == []
    write_together([(tmp_path / "a.bin", b"a"), (tmp_path / "b.bin", b"b")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.bin"]


def test_write_atomic_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.bin", b"x")
        replaced = tmp_path / "kept.bin"
        replaced.write_bytes(b"old")
        replaced.chmod(0o664)
        write_atomic(replaced, b"new", force=True)
    finally:
        os.umask(old)
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o640
    assert replaced.stat().st_mode & 0o777 == 0o664 and replaced.read_bytes() == b"new"


def test_read_file_limits(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100)
    assert read_file(path, limit=100) == b"x" * 100
    with pytest.raises(InvalidInputError, match="input limit"):
        read_file(path, limit=99)
    with pytest.raises(InvalidInputError, match="folder"):
        read_file(tmp_path)
    with pytest.raises(InvalidInputError, match="input limit"):
        read_stream(io.BytesIO(b"y" * 10), "standard input", limit=9)
