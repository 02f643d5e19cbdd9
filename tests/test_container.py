from __future__ import annotations

import dataclasses
import io
import shutil
import struct
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from jpegplus import container
from jpegplus.codecs import CodecName, get_codec
from jpegplus.codecs.boxes import JPEGPLUS_UUID
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


# APP11 segment holding a JUMBF superbox (common id, instance, sequence; jumb; jumd with UUID, toggles and
# label; bidb), RIFF chunk (+ the VP8X chunk a simple WebP needs), uuid box
HEADERS = {
    "jpeg": 4 + 8 + 8 + (8 + 16 + 1 + len(b"jpegplus\0")) + 8,
    "webp": 8 + 18,
    "avif": 8 + 16,
    "jpeg2000": 8 + 16,
}


@pytest.mark.parametrize(("codec", "header"), HEADERS.items())
def test_payload_costs_only_its_own_bytes(codec: str, header: int) -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    adapter = get_codec(codec)
    payload = container.serialise(META)
    overhead = len(adapter.encode(image, 50, payload=payload)) - len(adapter.encode(image, 50))
    assert len(payload) == 4 + 1 + 1 + 4 + len("jpeg-downsample")  # header, 13 and 7, digest, name
    assert overhead == header + len(payload) + len(payload) % (2 if codec == "webp" else 1) < 90


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


def legacy_app11(data: bytes) -> bytes:
    """A jpegplus JPEG as earlier versions wrote it: the payload in a bare APP11 segment ``JPEGPLUS\\0``."""
    payload = get_codec("jpeg").read_payload(data)
    assert payload is not None
    plain = get_codec("jpeg").encode(get_codec("jpeg").decode(data), 95)
    segment = b"JPEGPLUS\0" + payload
    return plain[:2] + struct.pack(">BBH", 0xFF, 0xEB, len(segment) + 2) + segment + plain[2:]


def test_jpeg_payload_is_a_jumbf_box() -> None:
    data = get_codec("jpeg").encode(np.zeros((8, 8, 3), np.uint8), 50, payload=container.serialise(META))
    start = data.index(b"\xff\xeb")
    segment = data[start + 4 : start + 2 + struct.unpack(">H", data[start + 2 : start + 4])[0]]
    assert segment[:8] == b"JP" + struct.pack(">HI", 1, 1)  # common identifier, box instance, packet sequence
    length, kind = struct.unpack(">I4s", segment[8:16])
    assert kind == b"jumb" and length == len(segment) - 8  # one superbox filling the segment
    assert segment[20:24] == b"jumd" and segment[24:40] == JPEGPLUS_UUID and segment[41:50] == b"jpegplus\0"
    assert segment[54:58] == b"bidb" and segment[58:] == container.serialise(META)


def test_legacy_app11_payload_is_still_read() -> None:
    data = get_codec("jpeg").encode(np.zeros((8, 8, 3), np.uint8), 50, payload=container.serialise(META))
    old = legacy_app11(data)
    assert b"JPEGPLUS\0" in old and b"jumb" not in old
    assert container.extract(old) == META


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool (libimage-exiftool-perl) is not installed")
def test_exiftool_validates_the_payload_segment(tmp_path: Path) -> None:
    exif = Image.Exif()
    for tag, value in ((0x0112, 1), (0x011A, 72.0), (0x011B, 72.0), (0x0128, 2), (0x0213, 1)):
        exif[tag] = value  # the IFD0 tags exiftool requires of a JPEG's EXIF
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = get_codec("jpeg").encode(
        np.zeros((16, 16, 3), np.uint8), 50, exif=exif.tobytes(), icc=icc, payload=container.serialise(META)
    )
    checks = {"new.jpg": data, "old.jpg": legacy_app11(data)}
    for name, content in checks.items():
        (tmp_path / name).write_bytes(content)
    report = subprocess.run(
        ["exiftool", "-validate", "-warning", "-a", "-JUMDLabel", "-s3", str(tmp_path / "new.jpg")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "OK" in report and "jpegplus" in report and "Warning" not in report
    old = subprocess.run(["exiftool", "-validate", "-warning", str(tmp_path / "old.jpg")], capture_output=True)
    assert b"Invalid JUMBF" in old.stdout  # what the bare APP11 segment was reported as
