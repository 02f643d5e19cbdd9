from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import jpegplus
from jpegplus import transparency
from jpegplus.cli import app
from jpegplus.codecs import get_codec
from jpegplus.errors import InvalidInputError, InvalidOptionError, OutputError
from jpegplus.io import LoadedImage, encode_picture, load_image
from jpegplus.pipeline import decompress_image

SECRET = (255, 0, 255)  # the colour hidden under fully transparent pixels: must never reach a file
ALPHA_CODECS = ["webp", "avif", "jpeg2000"]
# Largest alpha error after compress + decompress in full mode at quality 50 (WebP stores alpha
# losslessly, AVIF at quality 90 or above; JPEG 2000 codes it in the colour's codestream, same rate)
ALPHA_TOLERANCE = {"webp": 0, "avif": 8, "jpeg2000": 16}


@pytest.fixture(scope="module")
def cut_out(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A photo with a soft-edged disc of alpha; outside it the colour is SECRET and alpha 0."""
    height, width = photo.shape[:2]
    rows, cols = np.mgrid[:height, :width]
    radius = np.hypot(rows - height / 2, cols - width / 2)
    alpha = np.clip((40 - radius) * 16 + 128, 0, 255).astype(np.uint8)
    colour = photo.copy()
    colour[alpha == 0] = SECRET
    return colour, alpha


def png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def shows_secret(pixels: np.ndarray) -> bool:
    return bool(np.any(np.all(np.abs(pixels[..., :3].astype(int) - SECRET) < 40, axis=-1)))


def test_inputs_with_alpha_are_read_as_alpha(cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    rgba = load_image(png(Image.fromarray(np.dstack([colour, alpha]))))
    assert np.array_equal(rgba.pixels, colour) and np.array_equal(rgba.alpha, alpha)
    gray = load_image(png(Image.fromarray(np.dstack([colour[:, :, 1], alpha]), "LA")))
    assert gray.pixels.ndim == 2 and np.array_equal(gray.alpha, alpha)
    assert np.array_equal(load_image(np.dstack([colour, alpha])).alpha, alpha)  # arrays too
    assert load_image(np.dstack([colour, np.full_like(alpha, 255)])).alpha is None  # opaque RGBA is opaque


def test_transparent_palette_and_colour_key_become_alpha() -> None:
    palette = Image.new("P", (4, 2))
    palette.putpalette([0, 0, 0, 200, 10, 10])
    palette.putpixel((0, 0), 1)
    palette.info["transparency"] = 0
    loaded = load_image(png(palette))
    assert loaded.alpha is not None and loaded.alpha[0, 0] == 255 and loaded.alpha[1, 1] == 0
    assert tuple(loaded.pixels[0, 0]) == (200, 10, 10)
    keyed = Image.fromarray(np.array([[0, 90], [90, 90]], np.uint8))
    keyed.info["transparency"] = 0  # a tRNS colour key on a gray PNG
    assert load_image(png(keyed)).alpha.tolist() == [[0, 255], [255, 255]]


def test_fill_hides_the_colour_under_transparent_pixels(cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    filled = transparency.fill_transparent(colour, alpha)
    visible = alpha > 0
    assert np.array_equal(filled[visible], colour[visible])  # partly transparent pixels keep their colour
    assert not shows_secret(filled)
    steps = np.abs(np.diff(filled.astype(int), axis=1))[~visible[:, 1:] & ~visible[:, :-1]]
    photo_steps = np.abs(np.diff(colour.astype(int), axis=1))[visible[:, 1:] & visible[:, :-1]]
    assert steps.mean() < photo_steps.mean() / 3  # a smooth continuation: cheap to code, no edge to ring
    gray = transparency.fill_transparent(colour[:, :, 0], alpha)
    assert gray.shape == alpha.shape and np.array_equal(gray[visible], colour[:, :, 0][visible])


@pytest.mark.parametrize("codec", ALPHA_CODECS)
def test_codec_stores_alpha_beside_the_colour(codec: str, cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    data = get_codec(codec).encode(transparency.fill_transparent(colour, alpha), 50, alpha=alpha)
    picture = Image.open(io.BytesIO(data))
    assert picture.mode == "RGBA"  # a plain viewer sees the transparency
    stored = np.asarray(picture)[:, :, 3].astype(int)
    assert np.abs(stored - alpha).max() <= ALPHA_TOLERANCE[codec]


def test_avif_alpha_is_coded_finer_than_low_colour_quality(cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    from jpegplus.codecs.avif import ALPHA_QUALITY, quantizer

    colour, alpha = cut_out
    assert get_codec("avif").save_options(10, "RGBA")["advanced"] == {"a:cq-level": str(quantizer(90))}
    assert get_codec("avif").save_options(95, "RGBA")["advanced"] == {"a:cq-level": str(quantizer(95))}
    assert ALPHA_QUALITY == 90 and "advanced" not in get_codec("avif").save_options(10, "RGB")
    data = get_codec("avif").encode(colour, 10, alpha=alpha)
    assert np.abs(np.asarray(Image.open(io.BytesIO(data)))[:, :, 3].astype(int) - alpha).max() <= 8


@pytest.mark.parametrize("codec", ALPHA_CODECS)
def test_compress_and_decompress_keep_alpha(codec: str, cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    data = jpegplus.compress(png(Image.fromarray(np.dstack([colour, alpha]))), codec=codec, quality=50, mode="full")
    plain = np.asarray(Image.open(io.BytesIO(data)))
    assert plain.shape[2] == 4 and not shows_secret(plain)
    restored = jpegplus.decompress(data)
    assert restored.shape == (*alpha.shape, 4) and restored.flags.c_contiguous
    assert np.abs(restored[:, :, 3].astype(int) - alpha).max() <= ALPHA_TOLERANCE[codec]
    assert not shows_secret(restored)
    visible = alpha == 255
    assert np.abs(restored[:, :, :3].astype(int) - colour)[visible].mean() < 6  # the colour is restored


@pytest.mark.parametrize("codec", ALPHA_CODECS)
def test_gray_with_alpha_comes_back_gray_with_alpha(codec: str, cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    data = jpegplus.compress(np.dstack([colour[:, :, 1], alpha]), codec=codec, quality=60, mode="full")
    restored = jpegplus.decompress(data)
    assert restored.shape == (*alpha.shape, 2)
    assert np.abs(restored[:, :, 1].astype(int) - alpha).max() <= ALPHA_TOLERANCE[codec]


def test_downsample_mode_resamples_alpha(cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    data = jpegplus.compress(np.dstack([colour, alpha]), codec="webp", quality=60, mode="downsample")
    assert np.asarray(Image.open(io.BytesIO(data))).shape[:2] == ((alpha.shape[0] + 1) // 2, (alpha.shape[1] + 1) // 2)
    restored = jpegplus.decompress(data)[:, :, 3].astype(int)
    assert np.abs(restored - alpha).mean() < 2  # edges soften by about a pixel
    clear = cv2.erode((alpha == 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    opaque = cv2.erode((alpha == 255).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.all(restored[clear] == 0) and np.all(restored[opaque] == 255)


def test_jpeg_refuses_transparency_naming_background(cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    with pytest.raises(InvalidInputError, match="--background COLOR"):
        jpegplus.compress(np.dstack(cut_out), codec="jpeg")
    with pytest.raises(InvalidInputError, match="--background COLOR"):
        get_codec("jpeg").encode(cut_out[0], 50, alpha=cut_out[1])


@pytest.mark.parametrize("background", ["white", "#ffffff", (255, 255, 255), "rgb(255,255,255)"])
def test_background_flattens_for_jpeg(background: object, cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    colour, alpha = cut_out
    data = jpegplus.compress(np.dstack([colour, alpha]), codec="jpeg", quality=90, background=background)
    plain = np.asarray(Image.open(io.BytesIO(data))).astype(int)
    assert plain.shape == colour.shape and not shows_secret(plain)
    assert np.abs(plain[alpha == 0] - 255).max() <= 8  # white where the image was transparent
    expected = transparency.flatten(LoadedImage(colour, alpha=alpha), (255, 255, 255)).pixels.astype(int)
    assert np.abs(plain - expected).mean() < 4


def test_background_flattens_for_codecs_with_alpha_too(cut_out: tuple[np.ndarray, np.ndarray]) -> None:
    data = jpegplus.compress(np.dstack(cut_out), codec="webp", quality=90, mode="full", background="#000")
    assert jpegplus.decompress(data).shape == (*cut_out[1].shape, 3)


def test_flatten_keeps_gray_on_gray_and_widens_on_colour() -> None:
    loaded = LoadedImage(np.full((2, 2), 100, np.uint8), alpha=np.array([[0, 255], [128, 255]], np.uint8))
    assert transparency.flatten(loaded, (200, 200, 200)).pixels.tolist() == [[200, 100], [150, 100]]
    coloured = transparency.flatten(loaded, (255, 0, 0)).pixels
    assert coloured.shape == (2, 2, 3) and coloured[0, 0].tolist() == [255, 0, 0]


@pytest.mark.parametrize("background", ["nocolour", (1, 2), (0, 0, 300), 7])
def test_bad_background_is_an_option_error(background: object) -> None:
    with pytest.raises(InvalidOptionError, match="background"):
        transparency.parse_background(background)  # type: ignore[arg-type]


def test_decompress_writes_rgba_png_and_refuses_alpha_in_jpeg(
    cut_out: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    data = jpegplus.compress(np.dstack(cut_out), codec="webp", quality=70, mode="full")
    restored = decompress_image(data)
    written = Image.open(io.BytesIO(encode_picture(restored, ".png")))
    assert written.mode == "RGBA" and np.array_equal(np.asarray(written), restored.array)
    with pytest.raises(OutputError, match="transparency"):
        encode_picture(restored, ".jpg")


@pytest.mark.parametrize("output", [["-o", "cut.jpg"], ["--out-dir", ".", "--format", "jpeg"]])
def test_enhance_to_jpeg_refuses_an_image_with_alpha(
    cut_out: tuple[np.ndarray, np.ndarray], tmp_path: Path, output: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.dstack(cut_out)).save("cut.png")
    result = CliRunner().invoke(app, ["enhance", "cut.png", *output])
    assert result.exit_code == 1 and "cannot hold the image's transparency" in result.output
    assert not list(tmp_path.glob("*.jpg"))
