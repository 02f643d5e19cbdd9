from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from conftest import psnr
from jpegplus.codecs import CodecName, get_codec, list_codecs
from jpegplus.codecs.jpeg2000 import compression_ratio
from jpegplus.errors import InvalidInputError, InvalidOptionError
from jpegplus.quantization import restoration_tables

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
    picture = Image.open(io.BytesIO(get_codec("jpeg").encode(photo, 40, restoration=True)))
    assert [list(picture.quantization[i]) for i in (0, 1)] == [t.astype(int).tolist() for t in restoration_tables(40)]
    assert picture.layer[0][1:3] == (2, 2)
    gray = Image.open(io.BytesIO(get_codec("jpeg").encode(gray_photo, 40, restoration=True)))
    assert gray.mode == "L" and list(gray.quantization[0]) == restoration_tables(40)[0].astype(int).tolist()


@pytest.mark.parametrize("name", ["webp", "jpeg2000", "avif"])
def test_other_codecs_encode_the_same_for_restoration(name: str, photo: np.ndarray) -> None:
    codec = get_codec(name)
    decoded = [codec.decode(codec.encode(photo, 40, restoration=flag)) for flag in (True, False)]
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
