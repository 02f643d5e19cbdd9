from __future__ import annotations

import dataclasses
import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from jpegplus import container
from jpegplus.codecs import CodecName, get_codec
from jpegplus.container import Metadata
from jpegplus.errors import MetadataError

META = Metadata(
    width=13, height=7, channels=3, mode="downsample", codec="jpeg", quality=40, model="jpeg-downsample@0a1b2c3d"
)
FORMAT_1 = b"w=13;h=7;c=3;m=downsample;k=jpeg;q=40;id=jpeg-downsample@0a1b2c3d;v=1"  # jpegplus before format 2


@pytest.mark.parametrize("codec", [c.value for c in CodecName])
def test_metadata_travels_in_every_codec(codec: str) -> None:
    data = get_codec(codec).encode(np.zeros((4, 7, 3), np.uint8), 50, payload=container.serialise(META))
    assert container.extract(data) == META
    assert np.array_equal(get_codec(codec).decode(data).shape, (4, 7, 3))


@pytest.mark.parametrize("codec", [c.value for c in CodecName])
def test_plain_file_has_no_metadata(codec: str) -> None:
    assert container.extract(get_codec(codec).encode(np.zeros((4, 7, 3), np.uint8), 50)) is None


# APP11 segment, RIFF chunk (+ the VP8X chunk a simple WebP needs), uuid box
HEADERS = {"jpeg": 4 + len(b"JPEGPLUS\0"), "webp": 8 + 18, "avif": 8 + 16, "jpeg2000": 8 + 16}


@pytest.mark.parametrize(("codec", "header"), HEADERS.items())
def test_payload_costs_only_its_own_bytes(codec: str, header: int) -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    adapter = get_codec(codec)
    payload = container.serialise(META)
    overhead = len(adapter.encode(image, 50, payload=payload)) - len(adapter.encode(image, 50))
    assert len(payload) == 4 + 1 + 1 + 4 + len("jpeg-downsample")  # header, 13 and 7, digest, name
    assert overhead == header + len(payload) + len(payload) % (2 if codec == "webp" else 1) < 60


def test_webp_payload_keeps_exif_and_icc_chunks() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = get_codec("webp").encode(
        np.zeros((8, 8, 3), np.uint8), 50, exif=exif.tobytes(), icc=icc, payload=container.serialise(META)
    )
    picture = Image.open(io.BytesIO(data))
    assert container.extract(data) == META
    assert picture.getexif()[0x0112] == 6 and picture.info["icc_profile"] == icc


@pytest.mark.parametrize("codec", ["webp", "avif"])
def test_format_1_payload_in_xmp_is_still_read(codec: str) -> None:
    buffer = io.BytesIO()  # how jpegplus wrote WebP (and AVIF before session 4)
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:jpegplus="https://github.com/jpegplus/ns/1/" '
        f'jpegplus:data="{FORMAT_1.decode()}"/></rdf:RDF></x:xmpmeta>'
    )
    Image.new("RGB", (8, 8)).save(buffer, codec.upper(), xmp=xmp.encode())
    assert container.extract(buffer.getvalue()) == dataclasses.replace(META, version=1)


def test_format_1_payload_is_still_parsed() -> None:
    assert container.parse(FORMAT_1) == dataclasses.replace(META, version=1)


def test_payload_round_trips_large_gray_full_mode() -> None:
    meta = dataclasses.replace(META, width=20_000, height=9_000, channels=1, mode="full", codec="avif", quality=100)
    assert container.parse(container.serialise(meta)) == meta


def test_stored_size_rounds_up() -> None:
    assert META.stored_size == (7, 4)
    assert dataclasses.replace(META, mode="full").stored_size == (13, 7)


@pytest.mark.parametrize(
    ("byte", "value", "message"),
    [
        (0, 9, "unsupported jpegplus format version"),
        (2, 7, "unknown codec"),
        (4, 0, "implausible original size"),
        (3, 200, "implausible quality"),
    ],
)
def test_tampered_bytes_are_refused(byte: int, value: int, message: str) -> None:
    payload = bytearray(container.serialise(META))
    payload[byte] = value
    with pytest.raises(MetadataError, match=message):
        container.parse(bytes(payload))


@pytest.mark.parametrize("length", [3, 6, 10])
def test_truncated_payload_is_refused(length: int) -> None:
    with pytest.raises(MetadataError, match="truncated|lacks its model"):
        container.parse(container.serialise(META)[:length])


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"w=13;h=7", b"w=100000;h=100000", "implausible original size"),
        (b"h=7", b"h=0", "implausible original size"),
        (b"c=3", b"c=4", "channels"),
        (b"v=1", b"v=9", "unsupported jpegplus format version"),
        (b"q=40", b"q=high", "non-numeric"),
        (b"k=jpeg", b"k=bpg", "unknown codec"),
        (b";id=jpeg-downsample@0a1b2c3d", b"", "lacks model"),
    ],
)
def test_tampered_format_1_fields_are_refused(old: bytes, new: bytes, message: str) -> None:
    assert old in FORMAT_1
    with pytest.raises(MetadataError, match=message):
        container.parse(FORMAT_1.replace(old, new))


def test_overlong_payload_is_refused() -> None:
    with pytest.raises(MetadataError, match="too long"):
        container.parse(b"x" * 5000)


def test_webp_with_payload_chunk_decodes_alike_in_opencv() -> None:
    image = (np.random.default_rng(0).random((37, 53, 3)) * 255).astype(np.uint8)
    data = get_codec("webp").encode(image, 50, payload=container.serialise(META))
    by_opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
    assert np.array_equal(by_opencv, get_codec("webp").decode(data))
