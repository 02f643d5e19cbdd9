from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from PIL import Image

from jpegplus import container
from jpegplus.codecs import CodecName, get_codec
from jpegplus.codecs.pillow_codec import xmp_packet
from jpegplus.container import Metadata
from jpegplus.errors import MetadataError

META = Metadata(width=13, height=7, channels=3, mode="downsample", codec="jpeg", quality=40, model="jpeg-downsample@0")


@pytest.mark.parametrize("codec", [c.value for c in CodecName])
def test_metadata_travels_in_every_codec(codec: str) -> None:
    data = get_codec(codec).encode(np.zeros((4, 7, 3), np.uint8), 50, payload=container.serialise(META))
    assert container.extract(data) == META
    assert np.array_equal(get_codec(codec).decode(data).shape, (4, 7, 3))


@pytest.mark.parametrize("codec", [c.value for c in CodecName])
def test_plain_file_has_no_metadata(codec: str) -> None:
    assert container.extract(get_codec(codec).encode(np.zeros((4, 7, 3), np.uint8), 50)) is None


HEADERS = {"jpeg": 4 + len(b"JPEGPLUS\0"), "avif": 8 + 16, "jpeg2000": 8 + 16}  # APP11 segment, uuid box


@pytest.mark.parametrize(("codec", "header"), HEADERS.items())
def test_payload_costs_only_its_own_bytes(codec: str, header: int) -> None:
    image = np.zeros((16, 16, 3), np.uint8)
    adapter = get_codec(codec)
    overhead = len(adapter.encode(image, 50, payload=container.serialise(META))) - len(adapter.encode(image, 50))
    assert overhead == header + len(container.serialise(META)) < 100


def test_avif_payload_in_xmp_is_still_read() -> None:
    buffer = io.BytesIO()  # how jpegplus wrote AVIF before session 4
    Image.new("RGB", (8, 8)).save(buffer, "AVIF", xmp=xmp_packet(container.serialise(META)))
    assert container.extract(buffer.getvalue()) == META


def test_stored_size_rounds_up() -> None:
    assert META.stored_size == (7, 4)
    assert dataclasses.replace(META, mode="full").stored_size == (13, 7)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"w=13;h=7", b"w=100000;h=100000", "implausible original size"),
        (b"h=7", b"h=0", "implausible original size"),
        (b"c=3", b"c=4", "channels"),
        (b"v=1", b"v=9", "unsupported jpegplus format version"),
        (b"q=40", b"q=high", "non-numeric"),
        (b"k=jpeg", b"k=bpg", "unknown codec"),
        (b";id=jpeg-downsample@0", b"", "lacks model"),
    ],
)
def test_tampered_fields_are_refused(old: bytes, new: bytes, message: str) -> None:
    payload = container.serialise(META)
    assert old in payload
    with pytest.raises(MetadataError, match=message):
        container.parse(payload.replace(old, new))


def test_overlong_payload_is_refused() -> None:
    with pytest.raises(MetadataError, match="too long"):
        container.parse(b"x" * 5000)
