from __future__ import annotations

import io
import itertools
import shutil
import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

import jpegplus
from conftest import psnr
from jpegplus.codecs import CodecName, get_codec, list_codecs
from jpegplus.codecs.jpeg.codec import JpegCodec, smallest_scans
from jpegplus.codecs.jpeg.quantization import restoration_tables
from jpegplus.codecs.jpeg.trellis import trellis_quantized
from jpegplus.codecs.jpeg2000 import compression_ratio
from jpegplus.errors import InvalidInputError, InvalidOptionError

ALL = [c.value for c in CodecName]


def test_registry_matches_enum() -> None:
    assert list_codecs() == sorted(ALL)


def test_unknown_codec_lists_known() -> None:
    with pytest.raises(InvalidOptionError, match="known codecs: avif, jpeg, jpeg2000, webp"):
        get_codec("bpg")


@pytest.mark.parametrize("name", ALL)
def test_round_trip_rgb(name: str, photo: np.ndarray) -> None:
    codec = get_codec(name)
    data = codec.encode(photo, 60)
    decoded = codec.decode(data)
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert psnr(decoded, photo) > 25
    assert Image.open(io.BytesIO(data)).format == codec.pillow_format


@pytest.mark.parametrize("name", ALL)
def test_quality_orders_size(name: str, photo: np.ndarray) -> None:
    codec = get_codec(name)
    assert len(codec.encode(photo, 20)) < len(codec.encode(photo, 80))


@pytest.mark.parametrize("name", ALL)
def test_gray_decodes_to_gray_values(name: str, gray_photo: np.ndarray) -> None:
    decoded = get_codec(name).decode(get_codec(name).encode(gray_photo, 80))
    as_gray = decoded if decoded.ndim == 2 else decoded.mean(axis=2)
    assert as_gray.shape == gray_photo.shape
    assert psnr(np.round(as_gray).astype(np.uint8), gray_photo) > 28


def test_jpeg_is_420_optimized(photo: np.ndarray) -> None:
    picture = Image.open(io.BytesIO(get_codec("jpeg").encode(photo, 75)))
    assert picture.layer[0][1:3] == (2, 2)  # luma sampled 2×2: 4:2:0


def test_jpeg_for_restoration_carries_restoration_tables(photo: np.ndarray, gray_photo: np.ndarray) -> None:
    picture = Image.open(io.BytesIO(get_codec("jpeg").for_restoration().encode(photo, 40)))
    assert [list(picture.quantization[i]) for i in (0, 1)] == [t.astype(int).tolist() for t in restoration_tables(40)]
    assert picture.layer[0][1:3] == (2, 2)
    gray = Image.open(io.BytesIO(get_codec("jpeg").for_restoration().encode(gray_photo, 40)))
    assert gray.mode == "L" and list(gray.quantization[0]) == restoration_tables(40)[0].astype(int).tolist()


@pytest.mark.parametrize("quality", [10, 40, 80])
def test_trellis_restoration_files_keep_the_tables_sampling_and_markers(quality: int) -> None:
    image = data.astronaut()
    tables = [t.astype(int).tolist() for t in restoration_tables(quality)]
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", qtables=tables, optimize=True, subsampling="4:2:0", comment=b"kept")
    written = JpegCodec().for_restoration(trellis=True).encode(image, quality)
    picture, rounded = Image.open(io.BytesIO(written)), Image.open(buffer)
    assert [list(picture.quantization[i]) for i in (0, 1)] == tables
    assert [layer[1:] for layer in picture.layer] == [layer[1:] for layer in rounded.layer]  # the same sampling
    assert len(written) < 0.93 * len(buffer.getvalue())  # the trellis trades a little error for many bits
    assert psnr(np.asarray(picture), image) > psnr(np.asarray(rounded), image) - 1.0
    assert trellis_quantized(buffer.getvalue(), image)[-2:] == b"\xff\xd9"
    assert Image.open(io.BytesIO(trellis_quantized(buffer.getvalue(), image))).info["comment"] == b"kept"


def test_attach_keeps_the_scans_mozjpeg_chose_for_a_trellis_file() -> None:
    codec = JpegCodec()
    trellis = codec.for_restoration(trellis=True).encode(data.astronaut(), 10)
    written = codec.attach(trellis, b"payload")
    assert len(written) - len(trellis) < 100 and written.endswith(trellis[-1000:])  # only the APP11 segment added


def test_trellis_keeps_a_file_libjpeg_refuses() -> None:
    assert trellis_quantized(b"\xff\xd8 not a JPEG", data.camera()) == b"\xff\xd8 not a JPEG"


@pytest.mark.parametrize("quality", [3, 30, 90])
def test_jpegplus_jpegs_are_recoded_smaller_with_the_same_pixels(quality: int) -> None:
    codec, image = get_codec("jpeg"), data.astronaut()
    baseline = codec.encode(image, quality)  # Pillow's baseline file (restoration files come progressive already)
    written = codec.attach(baseline, b"payload")
    assert codec.read_payload(written) == b"payload"
    assert np.array_equal(codec.decode(written), codec.decode(baseline))
    assert len(smallest_scans(baseline)) <= len(baseline) and len(written) <= len(baseline) + 100  # + the APP11 segment
    if quality == 3:  # mostly empty blocks: mozjpeg's progressive runs of empty blocks win
        assert Image.open(io.BytesIO(written)).info.get("progressive") == 1
        assert len(smallest_scans(baseline)) < 0.98 * len(baseline)


@pytest.mark.parametrize("quality", [5, 90])
def test_jpegplus_jpegs_decode_the_same_in_opencv_and_djpeg(quality: int) -> None:
    codec = get_codec("jpeg")
    written = jpegplus.compress(data.astronaut(), codec="jpeg", quality=quality, mode="full")  # q5: trellis
    pillow = codec.decode(written)
    opencv = cv2.cvtColor(cv2.imdecode(np.frombuffer(written, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert np.array_equal(opencv, pillow)
    if shutil.which("djpeg") is None:
        pytest.skip("djpeg (libjpeg-turbo-progs) is not installed")
    ppm = subprocess.run(["djpeg", "-ppm"], input=written, capture_output=True, check=True).stdout
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(ppm))), pillow)


@pytest.mark.parametrize("name", ["webp", "jpeg2000", "avif"])
def test_other_codecs_encode_the_same_for_restoration(name: str, photo: np.ndarray) -> None:
    codec = get_codec(name)
    for_restoration = jpegplus.compress(photo, codec=name, quality=40, mode="full")  # what full mode encodes
    decoded = [codec.decode(data) for data in (for_restoration, codec.encode(photo, 40))]
    assert np.array_equal(*decoded)


def test_jpeg2000_ratio_mapping() -> None:
    ratios = [compression_ratio(quality) for quality in range(1, 101)]
    assert ratios[0] == pytest.approx(300.0)  # 0.08 bpp: the quality range covers 0.1 bpp
    assert ratios[9] == pytest.approx(10.0 ** (2.0 - 0.015 * 9))  # from quality 10 up the original line
    assert ratios[99] == pytest.approx(10.0 ** (2.0 - 0.015 * 99))
    assert all(higher > lower for higher, lower in itertools.pairwise(ratios))


@pytest.mark.parametrize("payload", [b"", b"not an image at all", b"\xff\xd8\xff\xe0\x00\x10JFIF"])
def test_bad_bytes_raise_clear_error(payload: bytes) -> None:
    with pytest.raises(InvalidInputError):
        get_codec("jpeg").decode(payload)


def test_wrong_format_is_refused(photo: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match="expected a JPEG file, got WEBP"):
        get_codec("jpeg").decode(get_codec("webp").encode(photo, 50))


def damaged_copies(data: bytes, seed: int) -> list[bytes]:
    """Truncations, byte changes and zeroed tails of ``data``, as a careless disk or an attacker makes them."""
    rng = np.random.default_rng(seed)
    copies = [data[:cut] for cut in np.linspace(1, len(data) - 1, 12).astype(int)]
    for _ in range(60):
        damaged = bytearray(data)
        for position in rng.integers(0, len(data), rng.integers(1, 6)):
            damaged[position] = rng.integers(0, 256)
        copies.append(bytes(damaged))
    copies += [data[:cut] + bytes(len(data) - cut) for cut in np.linspace(20, len(data) - 8, 6).astype(int)]
    return copies


@pytest.mark.parametrize("name", ALL)
def test_every_decoder_failure_is_invalid_input(name: str, photo: np.ndarray) -> None:
    codec = get_codec(name)
    refused = 0
    for damaged in damaged_copies(codec.encode(photo[:48, :64], 50), seed=len(name)):
        try:
            assert codec.decode(damaged).dtype == np.uint8  # some damage still decodes: fine
        except InvalidInputError:
            refused += 1
    assert refused >= 12


def test_corrupt_avif_items_are_invalid_input(photo: np.ndarray) -> None:
    """Each byte of the item boxes set to 0 and to 255, and the coded data zeroed: libavif's RuntimeErrors
    ("Missing or empty image item", "Failed to decode frame 0: Decoding of color planes failed") included."""
    data = get_codec("avif").encode(photo[:32, :32], 50)
    media = data.index(b"mdat") + 4
    damaged = [data[:media] + bytes(len(data) - media)]
    for position in range(data.index(b"meta"), media):
        damaged += [data[:position] + bytes([value]) + data[position + 1 :] for value in (0, 255)]
    refused = 0
    for copy in damaged:
        try:
            get_codec("avif").decode(copy)
        except InvalidInputError:
            refused += 1
    assert refused >= 20


@pytest.mark.parametrize(("codec", "side"), [("jpeg", 65500), ("webp", 16383), ("avif", 32768)])
def test_a_side_over_the_format_limit_is_refused_before_encoding(codec: str, side: int) -> None:
    adapter = get_codec(codec)
    assert adapter.decode(adapter.encode(np.zeros((side, 1, 3), np.uint8), 50)).shape[0] == side
    with pytest.raises(InvalidInputError, match=f"at most {side} pixels a side"):
        adapter.encode(np.zeros((1, side + 1, 3), np.uint8), 50)


def test_a_jpeg_too_small_for_the_size_its_header_claims_is_refused_before_decoding() -> None:
    from jpegplus.codecs.pillow_codec import open_image

    def jpeg(image: np.ndarray, **options: object) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", **options)
        return buffer.getvalue()

    flat = jpeg(np.full((2048, 2048, 3), 128, np.uint8), quality=20, progressive=True)  # about 1.5 bits a block
    assert open_image(flat).size == (2048, 2048)
    small = bytearray(jpeg(np.zeros((16, 16, 3), np.uint8)))
    frame = small.index(b"\xff\xc0")
    small[frame + 5 : frame + 9] = (2048).to_bytes(2, "big") * 2  # height, width: libjpeg would fill them gray
    with pytest.raises(InvalidInputError, match="claims 2048x2048"):
        open_image(bytes(small))
