"""What follows a JPEG's picture (MPO pictures: phones' Ultra HDR gain maps, stereo views; a motion photo's video):
read as the JPEG, kept whole in JPEG outputs."""

from __future__ import annotations

import io
import logging
import struct

import numpy as np
import pytest
from PIL import Image

import jpegplus
from conftest import jpeg_bytes
from jpegplus.codecs.jpeg import appended
from jpegplus.errors import InvalidOptionError
from jpegplus.inspect import describe
from jpegplus.io import encode_picture, load_image
from jpegplus.pipeline import decompress_image, enhance_image

PRIMARY_TYPE = 0x030000  # MP entry attribute: baseline MP primary image
STEREO_TYPE = 0x020002  # multi-frame image, disparity
INDIVIDUAL_NUMBER = struct.pack("<HHII", 0xB101, 4, 1, 1)  # the attribute IFD's MPIndividualNum entry
VIDEO = b"\0\0\0\x18ftypmp42" + bytes(range(256)) * 40  # what a motion photo appends: an MP4, found from the end


def mpo_file(primary: bytes, further: list[bytes], *, gap: bytes = b"", offset_error: int = 0) -> bytes:
    """``primary`` with a little-endian MPF index right after SOI (MP entries, then an attribute IFD), ``gap``,
    then ``further``; ``offset_error`` added to the further pictures' offsets forges a broken index."""
    count = 1 + len(further)
    entries_at = 8 + 2 + 3 * 12 + 4  # TIFF header, the index IFD (3 fields) and its next-IFD offset
    attributes_at = entries_at + 16 * count
    index_ifd = struct.pack("<H", 3) + b"".join(
        [
            struct.pack("<HHI4s", 0xB000, 7, 4, b"0100"),
            struct.pack("<HHII", 0xB001, 4, 1, count),
            struct.pack("<HHII", 0xB002, 7, 16 * count, entries_at),
        ]
    )
    attributes = struct.pack("<H", 1) + INDIVIDUAL_NUMBER + struct.pack("<I", 0)
    body_size = 4 + attributes_at + len(attributes)
    first_size = len(primary) + 4 + body_size
    header = 2 + 4 + 4  # SOI, the segment's marker and length, "MPF\0"
    entries = struct.pack("<IIIHH", PRIMARY_TYPE, first_size, 0, 0, 0)
    position = first_size + len(gap)
    for picture in further:
        entries += struct.pack("<IIIHH", STEREO_TYPE, len(picture), position - header + offset_error, 0, 0)
        position += len(picture)
    tiff = b"II*\0" + struct.pack("<I", 8) + index_ifd + struct.pack("<I", attributes_at) + entries + attributes
    segment = struct.pack(">BBH", 0xFF, 0xE2, 2 + body_size) + b"MPF\0" + tiff
    return primary[:2] + segment + primary[2:] + gap + b"".join(further)


@pytest.fixture(scope="module")
def stereo(photo: np.ndarray) -> tuple[bytes, bytes, list[bytes]]:
    """An MPO of the photo (quality 40) and two further pictures, with padding before them and a video after
    them, and its parts."""
    primary = jpeg_bytes(photo, 40)
    further = [jpeg_bytes(photo[:, ::-1], 70), jpeg_bytes(photo[:48, :64], 50)]
    return mpo_file(primary, further, gap=b"\0" * 7) + VIDEO, primary, further


def test_an_mpo_is_enhanced_as_the_jpeg_it_opens_with(stereo: tuple[bytes, bytes, list[bytes]]) -> None:
    source, primary, _ = stereo
    assert Image.open(io.BytesIO(source)).format == "MPO"
    assert np.array_equal(jpegplus.enhance(source), jpegplus.enhance(primary))  # its tables, not a blind guess


def test_further_pictures_travel_whole_into_jpeg_outputs_with_the_index_rewritten(
    stereo: tuple[bytes, bytes, list[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    source, _, further = stereo
    outputs = {
        "enhance": encode_picture(enhance_image(source), ".jpg"),
        "compress": (compressed := jpegplus.compress(source, codec="jpeg", quality=30)),
        "decompress": encode_picture(decompress_image(compressed), ".jpg"),
    }
    for name, output in outputs.items():
        carried = appended.read(output)
        assert carried is not None and carried.pictures == tuple(further) and carried.trailer == VIDEO, name
        assert INDIVIDUAL_NUMBER in carried.index and output.endswith(VIDEO), name  # the attribute IFD kept
        opened = Image.open(io.BytesIO(output))
        assert opened.format == "MPO" and opened.n_frames == 3, name
        opened.seek(2)
        assert np.array_equal(np.asarray(opened), np.asarray(Image.open(io.BytesIO(further[1])))), name
    assert not caplog.records
    assert decompress_image(compressed).pixels.shape == load_image(source).pixels.shape


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda source: jpegplus.compress(source, codec="webp", quality=30), "no place for them"),
        (lambda source: jpegplus.compress(source, codec="jpeg", quality=30, strip=True), "strip leaves them out"),
        (lambda source: encode_picture(enhance_image(source), ".png"), "no place for them"),
    ],
)
def test_further_pictures_left_out_are_named_in_a_warning(
    stereo: tuple[bytes, bytes, list[bytes]], call: object, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        output = call(stereo[0])  # type: ignore[operator]
    pictures = "the JPEG's 2 further pictures (MPO: an HDR gain map, a stereo view or a preview) and "
    video = f"{len(VIDEO):,} bytes after them (a motion photo's video, a phone's trailer) left out: "
    assert pictures + video in caplog.text and caplog.text.rstrip().endswith(reason)
    assert Image.open(io.BytesIO(output)).format != "MPO" and appended.read(output) is None


def test_a_motion_photo_keeps_its_video_after_the_new_picture_and_padding_is_not_kept(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    primary = jpeg_bytes(photo, 40)
    output = jpegplus.compress(primary + VIDEO, codec="jpeg", quality=30)
    assert output.endswith(VIDEO) and jpegplus.decompress(output).shape == photo.shape and not caplog.records
    carried = appended.read(output)
    assert carried is not None and carried.trailer == VIDEO and not carried.pictures
    assert appended.read(primary + b"\0\0\xff") is None and appended.read(primary) is None
    assert appended.read(primary + b"!") == appended.Appended(trailer=b"!")  # the end marker is in the last 3 bytes
    with pytest.raises(InvalidOptionError, match=f"{len(VIDEO):,} of them the source's {len(VIDEO):,} bytes after its"):
        jpegplus.compress(primary + VIDEO, codec="jpeg", target_size=len(VIDEO))
    assert len(jpegplus.compress(primary + VIDEO, codec="jpeg", target_size=len(VIDEO), strip=True)) <= len(VIDEO)


def test_an_index_pointing_outside_the_file_keeps_what_follows_the_picture_without_one(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    primary, second = jpeg_bytes(photo, 40), jpeg_bytes(photo, 70)
    broken = mpo_file(primary, [second], offset_error=10_000)
    with caplog.at_level(logging.WARNING):
        output = encode_picture(enhance_image(broken), ".jpg")
    assert "points outside the file or at no JPEG: what follows its picture is kept without an index" in caplog.text
    carried = appended.read(output)
    assert carried is not None and carried.trailer == second and not carried.pictures
    assert np.asarray(Image.open(io.BytesIO(output))).shape == photo.shape


def test_info_says_what_follows_the_picture(stereo: tuple[bytes, bytes, list[bytes]]) -> None:
    facts = describe(stereo[0])
    assert facts["after the picture"] == (
        "2 further pictures (MPO: an HDR gain map, a stereo view or a preview) and "
        f"{len(VIDEO):,} bytes after them (a motion photo's video, a phone's trailer)"
    )
    assert "after the picture" not in describe(stereo[1])
