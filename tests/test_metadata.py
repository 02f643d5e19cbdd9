from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageOps, PngImagePlugin

import jpegplus
from conftest import jpeg_bytes
from jpegplus import metadata
from jpegplus.codecs import exif, get_codec
from jpegplus.codecs.boxes import UUID_BOX, box
from jpegplus.codecs.jp2meta import IPTC_UUID, read_metadata
from jpegplus.codecs.raw_profiles import RAW_IPTC_KEY, iptc_segment, irb_records, records_irb
from jpegplus.io import LoadedImage, encode_picture, load_image
from jpegplus.pipeline import decompress_image, enhance_image

CODECS = ["jpeg", "webp", "avif", "jpeg2000"]
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4" '
    b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>'
)
RED, BLUE = (255, 0, 0), (0, 0, 255)


DATE = "2024:01:02 03:04:05"  # DateTimeOriginal of camera_exif


def sideways() -> np.ndarray:
    """64 wide, 40 high as stored: blue with a red block in the top-left corner. With EXIF
    orientation 6 it is shown 40 wide and 64 high, the red block top right."""
    stored = np.zeros((40, 64, 3), np.uint8)
    stored[:] = BLUE
    stored[:16, :16] = RED
    return stored


def is_upright(shown: np.ndarray) -> bool:
    """Whether an RGB picture is ``sideways()`` turned by orientation 6 (lossy coding allowed)."""
    corner = shown[:12, -12:].reshape(-1, 3).mean(axis=0)
    other = shown[:12, :12].reshape(-1, 3).mean(axis=0)
    return shown.shape[:2] == (64, 40) and corner[0] > 180 > corner[2] and other[2] > 180 > other[0]


def camera_exif(orientation: int = 6, padding: int = 0) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestMake"
    exif[0x8769] = {0x9003: DATE}  # DateTimeOriginal in the Exif IFD
    if padding:
        exif[0x010E] = "x" * padding  # ImageDescription
    return exif.tobytes()


def png_with_metadata(pixels: np.ndarray, *, exif: bytes | None = None, xmp: bytes | None = XMP) -> bytes:
    text = PngImagePlugin.PngInfo()
    if xmp:
        text.add_itxt("XML:com.adobe.xmp", xmp.decode())
    buffer = io.BytesIO()
    options = {"exif": exif if exif is not None else camera_exif(), "icc_profile": SRGB, "pnginfo": text}
    Image.fromarray(pixels).save(buffer, "PNG", **options)
    return buffer.getvalue()


def shown_by_pillow(data: bytes) -> np.ndarray:
    return np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))


def shown_by_opencv(data: bytes, path: Path) -> np.ndarray:
    path.write_bytes(data)
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1]


@pytest.mark.parametrize("value", range(1, 9))
def test_orient_matches_pillows_exif_transpose(value: int, photo: np.ndarray) -> None:
    exif = Image.Exif()
    exif[0x0112] = value
    picture = Image.fromarray(photo[:20, :30])
    picture.info["exif"] = exif.tobytes()
    assert np.array_equal(metadata.orient(photo[:20, :30], value), np.asarray(ImageOps.exif_transpose(picture)))


@pytest.mark.parametrize("codec", CODECS)
def test_exif_icc_and_xmp_travel_through_every_codec(codec: str) -> None:
    data = jpegplus.compress(png_with_metadata(sideways()), codec=codec, quality=90, mode="full")
    carried = load_image(data)  # JP2's boxes are read by jpegplus; the others by Pillow
    tags = Image.Exif()
    tags.load(carried.exif)
    assert tags[0x010F] == "TestMake" and tags.get_ifd(0x8769)[0x9003] == DATE
    assert carried.icc == SRGB
    assert carried.xmp is not None and b'xmp:Rating="4"' in carried.xmp
    restored = decompress_image(data)
    assert (restored.exif, restored.icc, restored.xmp) == (carried.exif, carried.icc, carried.xmp)
    written = Image.open(io.BytesIO(encode_picture(restored, ".png")))
    assert written.info["icc_profile"] == SRGB and b'xmp:Rating="4"' in written.info["xmp"]
    assert written.getexif()[0x010F] == "TestMake"


@pytest.mark.parametrize("codec", CODECS)
def test_every_output_is_upright_in_pillow_and_opencv(codec: str, tmp_path: Path) -> None:
    data = jpegplus.compress(png_with_metadata(sideways()), codec=codec, quality=90, mode="full")
    assert is_upright(shown_by_pillow(data)) and is_upright(shown_by_opencv(data, tmp_path / f"out{codec}"))
    kept = Image.open(io.BytesIO(data)).getexif().get(0x0112, 1)
    assert kept == (6 if codec == "jpeg" else 1)  # only JPEG, shown upright by every viewer, keeps the tag
    decoded = encode_picture(decompress_image(data), ".png")
    assert is_upright(shown_by_pillow(decoded)) and is_upright(shown_by_opencv(decoded, tmp_path / "out.png"))
    assert Image.open(io.BytesIO(decoded)).getexif().get(0x0112, 1) == 1


def test_avif_keeps_the_exif_bytes_and_leaves_out_only_the_orientation() -> None:
    """Pillow's AVIF writer re-serialises EXIF that holds an orientation, which loses the thumbnail and breaks maker
    notes: the entry is taken out of the bytes instead, and every byte after IFD0's table stays where it was."""
    source = camera_exif(orientation=6).removeprefix(b"Exif\0\0")
    data = jpegplus.compress(png_with_metadata(sideways(), exif=source), codec="avif", quality=90, mode="full")
    written = bytes(Image.open(io.BytesIO(data)).info["exif"]).removeprefix(b"Exif\0\0")
    (entries,) = struct.unpack_from("<H", source, 8)
    table_end = 8 + 2 + 12 * entries + 4
    assert len(written) == len(source) and written[table_end:] == source[table_end:]
    tags = Image.Exif()
    tags.load(written)
    assert 0x0112 not in tags and tags[0x010F] == "TestMake" and tags.get_ifd(0x8769)[0x9003] == DATE
    assert is_upright(shown_by_pillow(data))


def test_tiff_output_keeps_exif_beside_xmp() -> None:
    """Pillow's TIFF writer ignores ``exif`` when ``tiffinfo`` (where XMP went) is given."""
    written = Image.open(io.BytesIO(encode_picture(LoadedImage(sideways(), exif=camera_exif(1), xmp=XMP), ".tif")))
    tags = written.getexif()
    assert tags[0x010F] == "TestMake" and tags.get_ifd(0x8769)[0x9003] == DATE
    assert b'xmp:Rating="4"' in written.info["xmp"]


def test_a_tiffs_own_tags_are_its_exif() -> None:
    tags = Image.Exif()
    tags[0x010F], tags[0x0112], tags[0x8769] = "Scanner", 6, {0x9003: DATE}
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "TIFF", exif=tags.tobytes())
    loaded = load_image(buffer.getvalue())
    read = Image.Exif()
    read.load(loaded.exif)
    assert read[0x010F] == "Scanner" and read.get_ifd(0x8769)[0x9003] == DATE
    assert not {0x0100, 0x0111, 0x0112} & set(read)  # its layout, and the orientation Pillow applied on loading
    assert is_upright(loaded.pixels)
    data = jpegplus.compress(buffer.getvalue(), codec="jpeg", quality=60, mode="full")
    assert Image.open(io.BytesIO(data)).getexif()[0x010F] == "Scanner" and is_upright(shown_by_pillow(data))


def test_a_baked_quarter_turn_swaps_the_pixel_width_and_height_of_exif_and_xmp() -> None:
    tags = Image.Exif()
    tags.load(camera_exif(6))
    tags[0x8769] = {0x9003: DATE, 0xA002: 64, 0xA003: 40}  # as stored: 64 wide, 40 high
    turned = metadata.upright(LoadedImage(sideways(), exif=tags.tobytes()))
    read = Image.Exif()
    read.load(turned.exif)
    directory = read.get_ifd(0x8769)
    assert is_upright(turned.pixels) and (directory[0xA002], directory[0xA003]) == (40, 64)
    assert read[0x0112] == 1 and directory[0x9003] == DATE
    sized = b'<exif:PixelXDimension>64</exif:PixelXDimension> exif:PixelYDimension="40" tiff:Orientation="6"'
    swapped = b'<exif:PixelXDimension>40</exif:PixelXDimension> exif:PixelYDimension="64" tiff:Orientation="1"'
    assert metadata.upright(LoadedImage(sideways(), xmp=sized)).xmp == swapped


def with_ifd1_thumbnail(exif: bytes, jpeg: bytes, trailer: bytes = b"") -> bytes:
    """``exif`` with an IFD1 after it holding ``jpeg`` as its thumbnail, then ``trailer``: a camera's layout."""
    tiff = bytearray(exif.removeprefix(b"Exif\0\0"))
    order = "<" if tiff[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, first)
    second = len(tiff) + len(tiff) % 2
    struct.pack_into(order + "I", tiff, first + 2 + 12 * count, second)
    start = second + 2 + 2 * 12 + 4
    entries = [struct.pack(order + "HHII", tag, 4, 1, value) for tag, value in ((0x0201, start), (0x0202, len(jpeg)))]
    ifd1 = struct.pack(order + "H", 2) + b"".join(entries) + bytes(4)  # two LONG entries, no next IFD
    return b"Exif\0\0" + bytes(tiff) + bytes(second - len(tiff)) + ifd1 + jpeg + trailer


def test_a_baked_turn_turns_the_exif_thumbnail_too() -> None:
    """A viewer shows the EXIF thumbnail as stored once the orientation says 1: it is turned with the pixels."""
    small = jpeg_bytes(sideways(), 90)
    for trailer in (b"", b"after the thumbnail"):  # a thumbnail that ends the block, and one that does not
        source = with_ifd1_thumbnail(camera_exif(6), small, trailer)
        turned = metadata.upright(LoadedImage(sideways(), exif=source))
        shown = exif.thumbnail(turned.exif)
        assert shown is not None and is_upright(np.asarray(Image.open(io.BytesIO(shown))))
        tags = Image.Exif()
        tags.load(turned.exif)
        assert tags[0x0112] == 1 and tags[0x010F] == "TestMake" and tags.get_ifd(0x8769)[0x9003] == DATE
        assert trailer in turned.exif


def test_a_new_thumbnail_goes_where_it_fits() -> None:
    small, large = jpeg_bytes(sideways()[:8, :8], 50), jpeg_bytes(sideways(), 95)
    source = with_ifd1_thumbnail(camera_exif(1), large, b"tail")
    shrunk = exif.with_thumbnail(source, small)
    assert len(shrunk) == len(source) and exif.thumbnail(shrunk) == small and shrunk.endswith(b"tail")
    grown = exif.with_thumbnail(with_ifd1_thumbnail(camera_exif(1), small, b"tail"), large)
    assert exif.thumbnail(grown) == large and b"tail" in grown and grown.endswith(large)
    assert exif.with_thumbnail(camera_exif(1), small) == camera_exif(1)  # no IFD1: nothing to replace


def test_xmp_orientation_follows_baked_pixels() -> None:
    loaded = metadata.upright(LoadedImage(sideways(), exif=camera_exif(), xmp=XMP))
    assert is_upright(loaded.pixels) and b'tiff:Orientation="1"' in loaded.xmp
    assert Image.open(io.BytesIO(encode_picture(loaded, ".png"))).getexif().get(0x0112) == 1
    only_xmp = metadata.fit(LoadedImage(sideways(), xmp=XMP), get_codec("jpeg"))  # Chromium ignores XMP
    assert is_upright(only_xmp.pixels)


def test_enhance_keeps_metadata_and_shows_upright(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "JPEG", quality=40, exif=camera_exif(), icc_profile=SRGB, xmp=XMP)
    result = enhance_image(buffer.getvalue())
    assert result.icc == SRGB and b'xmp:Rating="4"' in result.xmp
    written = encode_picture(result, ".png")
    assert is_upright(shown_by_pillow(written)) and is_upright(shown_by_opencv(written, tmp_path / "e.png"))
    as_jpeg = get_codec("jpeg").encode(result.pixels, 90, exif=result.exif, icc=result.icc, xmp=result.xmp)
    assert is_upright(shown_by_pillow(as_jpeg)) and Image.open(io.BytesIO(as_jpeg)).info["xmp"]


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 10, "mode": "full"},  # trellis-quantized by mozjpeg
        {"quality": 60, "mode": "full"},  # rounded, scans re-coded by mozjpeg
        {"quality": 60, "mode": "full", "saliency": True},  # dead zones written again by libjpeg
        {"quality": 30, "mode": "downsample"},
    ],
)
def test_compress_and_decompress_keep_the_pixel_density(photo: np.ndarray, options: dict[str, object]) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "PNG", dpi=(72, 144))  # PNG holds pixels per metre: 71.9989 / 144.0018
    compressed = jpegplus.compress(buffer.getvalue(), codec="jpeg", **options)
    assert Image.open(io.BytesIO(compressed)).info["dpi"] == (72, 144)  # JFIF's whole dots per inch
    restored = decompress_image(compressed)
    assert restored.dpi == (72, 144) and restored.pixels.shape == photo.shape
    assert Image.open(io.BytesIO(encode_picture(restored, ".tif"))).info["dpi"] == (72, 144)


def test_a_quarter_turn_swaps_the_pixel_density() -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "JPEG", quality=40, exif=camera_exif(), dpi=(300, 150))
    enhanced = enhance_image(buffer.getvalue())
    assert enhanced.dpi == (300, 150)
    written = encode_picture(enhanced, ".tif")  # no EXIF orientation shown: the rotation baked in
    assert is_upright(shown_by_pillow(written)) and Image.open(io.BytesIO(written)).info["dpi"] == (150, 300)


def test_a_jpeg_picture_output_keeps_xmp_density_and_orientation() -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "JPEG", quality=40, exif=camera_exif(), xmp=XMP, dpi=(300, 150))
    written = encode_picture(enhance_image(buffer.getvalue()), ".jpg", quality=90)
    picture = Image.open(io.BytesIO(written))
    assert b'xmp:Rating="4"' in picture.info["xmp"] and picture.info["dpi"] == (300, 150)
    assert picture.getexif().get(0x0112) == 6 and is_upright(shown_by_pillow(written))  # the viewer turns it


@pytest.mark.parametrize("quality", [10, 60])  # trellis, and rounded with the scans re-coded
def test_a_jpeg_comment_travels_through_compress_and_decompress(photo: np.ndarray, quality: int) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=80, comment="scanned by Zoë")
    compressed = jpegplus.compress(buffer.getvalue(), codec="jpeg", quality=quality)
    assert Image.open(io.BytesIO(compressed)).info["comment"] == "scanned by Zoë".encode()
    restored = Image.open(io.BytesIO(encode_picture(decompress_image(compressed), ".png")))
    assert restored.text == {"Comment": "scanned by Zoë"}


def app_segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


IPTC_SEGMENT = app_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x0a\x1c\x02\x5a\0\x05Paris")  # City
EXTENDED_XMP_SEGMENT = app_segment(0xE1, b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32 + b"<x:xmpmeta>")


@pytest.mark.parametrize("quality", [10, 60])  # trellis, and rounded with the scans re-coded
def test_iptc_and_extended_xmp_travel_whole_into_jpeg_and_are_left_out_with_a_warning_elsewhere(
    photo: np.ndarray, quality: int, caplog: pytest.LogCaptureFixture
) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=80, exif=camera_exif(1))
    source = buffer.getvalue()[:2] + IPTC_SEGMENT + EXTENDED_XMP_SEGMENT + buffer.getvalue()[2:]
    compressed = jpegplus.compress(source, codec="jpeg", quality=quality)
    assert IPTC_SEGMENT in compressed and EXTENDED_XMP_SEGMENT in compressed and not caplog.records
    restored = decompress_image(compressed)
    assert restored.segments == (IPTC_SEGMENT, EXTENDED_XMP_SEGMENT)
    assert IPTC_SEGMENT in encode_picture(restored, ".jpg") and Image.open(io.BytesIO(compressed)).getexif()
    with caplog.at_level(logging.WARNING):
        jpegplus.compress(source, codec="webp", quality=quality)
    assert "IPTC (Photoshop APP13) and extended XMP: left out" in caplog.text
    assert IPTC_SEGMENT not in jpegplus.compress(source, codec="jpeg", quality=quality, strip=True)


def iptc_jpeg(photo: np.ndarray) -> bytes:
    plain = jpeg_bytes(photo, 80)
    return plain[:2] + IPTC_SEGMENT + plain[2:]


def test_iptc_travels_into_png_as_its_raw_profile_text_and_back_into_a_jpeg_whole(
    photo: np.ndarray, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        png = encode_picture(enhance_image(iptc_jpeg(photo)), ".png")
    profile = Image.open(io.BytesIO(png)).text[RAW_IPTC_KEY]
    assert profile.split("\n")[1:3] == ["IPTC profile", f"{len(IPTC_SEGMENT) - 18:8d}"] and not caplog.records
    compressed = jpegplus.compress(png, codec="jpeg", quality=40)
    assert IPTC_SEGMENT in compressed and RAW_IPTC_KEY not in Image.open(io.BytesIO(compressed)).info
    assert IPTC_SEGMENT in encode_picture(load_image(png), ".jpg")
    path = tmp_path / "enhanced.png"
    path.write_bytes(png)
    if shutil.which("exiftool"):  # the convention is ExifTool's own: it reads the city back
        city = subprocess.run(["exiftool", "-s3", "-IPTC:City", str(path)], capture_output=True, text=True)
        assert city.stdout.strip() == "Paris"


def test_iptc_travels_into_tiff_as_its_photoshop_tag_and_iptc_naa_tag(photo: np.ndarray) -> None:
    tiff = Image.open(io.BytesIO(encode_picture(enhance_image(iptc_jpeg(photo)), ".tif")))
    assert bytes(tiff.tag_v2[metadata.PHOTOSHOP_TAG]) == IPTC_SEGMENT[4 + len(b"Photoshop 3.0\0") :]
    assert tiff.tag_v2[metadata.IPTC_NAA_TAG] == b"\x1c\x02\x5a\x00\x05Paris"  # the IIM records alone


def test_the_iptc_records_of_photoshop_resource_blocks_are_found_past_other_resources() -> None:
    records = b"\x1c\x02\x5a\x00\x05Paris"
    named = b"8BIM\x04\x0c\x03abc" + struct.pack(">I", 3) + b"xyz\0"  # a thumbnail-like resource, named, odd size
    assert irb_records(named + records_irb(records)) == records
    assert irb_records(named) is None and irb_records(b"not an IRB") is None


def tiff_with_iptc(records: bytes) -> bytes:
    """A TIFF whose IPTC-NAA tag is LONG-typed, as Photoshop and ExifTool write it."""
    padded = records + b"\0" * (-len(records) % 4)
    longs = struct.unpack(f"<{len(padded) // 4}I", padded)
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, sideways(), photometric="rgb", extratags=[(33723, "I", len(longs), longs, True)])
    return buffer.getvalue()


def test_a_tiffs_iptc_is_read_whole_and_travels_as_iptc_not_as_a_truncated_exif_tag(
    recwarn: pytest.WarningsRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    records = b"\x1c\x02\x5a\x00\x05Paris\x1c\x02\x19\x00\x04moon"
    loaded = load_image(tiff_with_iptc(records))
    assert loaded.segments is not None and records in loaded.segments[0] and not recwarn.list
    assert loaded.exif is not None and 33723 not in (exif.exif_tags(loaded.exif) or {})  # tifffile's own tags stay
    jpeg = jpegplus.compress(tiff_with_iptc(records), codec="jpeg", quality=60)
    assert records in [body for marker, body in Image.open(io.BytesIO(jpeg)).applist if marker == "APP13"][0]
    png = Image.open(io.BytesIO(encode_picture(jpegplus.enhance_image(tiff_with_iptc(records)), ".png")))
    assert iptc_segment(png.text[RAW_IPTC_KEY]) == loaded.segments[0]
    with caplog.at_level(logging.WARNING):  # a PIL image has lost all but one number of the tag
        assert load_image(Image.open(io.BytesIO(tiff_with_iptc(records)))).segments is None
    assert "IPTC-NAA tag is not readable whole without its file" in caplog.text


def test_a_jp2s_iptc_box_travels_and_openjpegs_own_comment_is_not_the_users() -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "JPEG2000")
    assert Image.open(io.BytesIO(buffer.getvalue())).info["comment"].startswith(b"Created by OpenJPEG")
    records = b"\x1c\x02\x5a\x00\x05Paris"
    tagged = buffer.getvalue() + box(UUID_BOX, IPTC_UUID + records)  # as ExifTool writes it
    loaded = load_image(tagged)
    assert loaded.segments == (IPTC_SEGMENT,) and loaded.text is None
    assert IPTC_SEGMENT in jpegplus.compress(tagged, codec="jpeg", quality=60)


def test_a_gifs_xmp_travels(photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(photo).convert("P").save(buffer, "GIF", comment=b"scanned")
    packet = b"<x:xmpmeta><dc:title>T</dc:title></x:xmpmeta>"
    trailer = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"  # the XMP specification's magic trailer, then the end
    gif = buffer.getvalue()[:-1] + b"\x21\xff\x0bXMP DataXMP" + packet + trailer + b";"
    assert load_image(gif).xmp == packet and load_image(gif).text == {"Comment": "scanned"}
    assert Image.open(io.BytesIO(jpegplus.compress(gif, codec="jpeg", quality=60))).info["xmp"] == packet


def test_iptc_travels_into_jpeg_2000_as_exiftools_iptc_box(photo: np.ndarray, caplog: pytest.LogCaptureFixture) -> None:
    source = iptc_jpeg(photo)
    source = source[:2] + EXTENDED_XMP_SEGMENT + source[2:]
    with caplog.at_level(logging.WARNING):
        jp2 = jpegplus.compress(source, codec="jpeg2000", quality=60)
    assert "no place for the input's extended XMP: left out" in caplog.text and "IPTC" not in caplog.text
    assert read_metadata(jp2)["iptc"] == b"\x1c\x02\x5a\x00\x05Paris" and load_image(jp2).segments == (IPTC_SEGMENT,)
    written = encode_picture(replace(load_image(source), text={"Comment": "c"}), ".jp2")
    assert read_metadata(written)["iptc"] == b"\x1c\x02\x5a\x00\x05Paris" and "Comment left out" in caplog.text
    png = encode_picture(enhance_image(source), ".png")  # IPTC as the PNG's raw-profile text
    assert read_metadata(jpegplus.compress(png, codec="jpeg2000", quality=60))["iptc"] == b"\x1c\x02\x5a\x00\x05Paris"


def raw_profile(kind: str, data: bytes) -> str:
    """ImageMagick's text of a raw profile: a name line, the byte count, hex lines."""
    return f"\n{kind}\n{len(data):8d}\n{data.hex()}\n"


def test_imagemagick_raw_exif_and_xmp_profiles_of_a_png_are_its_exif_and_xmp() -> None:
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text("Raw profile type exif", raw_profile("exif", camera_exif(6)), zip=True)
    chunks.add_text("Raw profile type xmp", raw_profile("xmp", b"<x:xmpmeta>title</x:xmpmeta>"), zip=True)
    chunks.add_text("Title", "kept")
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "PNG", pnginfo=chunks)
    loaded = load_image(buffer.getvalue())
    assert exif.exif_tags(loaded.exif)[0x010F] == "TestMake" and loaded.xmp == b"<x:xmpmeta>title</x:xmpmeta>"
    assert loaded.text == {"Title": "kept"}  # the profiles are not also text, which would keep orientation 6
    png = Image.open(io.BytesIO(encode_picture(loaded, ".png")))
    assert is_upright(np.asarray(png)) and png.getexif()[0x0112] == 1 and "Raw profile type exif" not in png.info
    jpeg = Image.open(io.BytesIO(encode_picture(loaded, ".jpg")))
    assert jpeg.getexif()[0x0112] == 6 and is_upright(np.asarray(ImageOps.exif_transpose(jpeg)))


def test_a_png_raw_exif_profile_beside_its_own_exif_stays_text() -> None:
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text("Raw profile type exif", raw_profile("exif", camera_exif(3)))
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "PNG", pnginfo=chunks, exif=camera_exif(1))
    loaded = load_image(buffer.getvalue())  # Pillow's getexif, too, prefers the eXIf chunk
    assert exif.exif_tags(loaded.exif)[0x0112] == 1 and loaded.text is not None
    assert loaded.text["Raw profile type exif"] == raw_profile("exif", camera_exif(3))


def test_a_png_profile_of_bare_iptc_records_becomes_a_photoshop_segment_and_a_broken_one_stays_text(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    records = b"\x1c\x02\x5a\x00\x05Paris"
    assert iptc_segment(raw_profile("iptc", records)) == IPTC_SEGMENT
    assert iptc_segment("\niptc\n      99\n1c02\n") is None  # its length is not the data's
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text(RAW_IPTC_KEY, "not hex")
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "PNG", pnginfo=chunks)
    with caplog.at_level(logging.WARNING):
        compressed = jpegplus.compress(buffer.getvalue(), codec="jpeg", quality=40)
    assert b"Photoshop 3.0" not in compressed and f"{RAW_IPTC_KEY} left out" in caplog.text


DUCKY_SEGMENT = app_segment(0xEC, b"Ducky\x00\x01\x00\x04\x00\x00\x00\x50\x00\x00")
C2PA_JUMBF = b"\0\0\0\x40jumb\0\0\0\x20jumd" + b"\0" * 16 + b"c2pa\0"  # a manifest store's opening boxes
C2PA_SEGMENT = app_segment(0xEB, b"JP\x00\x01\x00\x00\x00\x01" + C2PA_JUMBF)
FLASHPIX_SEGMENT = app_segment(0xE2, b"FPXR\0\0\x01" + b"\0" * 20)


def test_other_app_segments_are_carried_or_named_in_a_warning_never_dropped_silently(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    plain = jpeg_bytes(photo, 80)
    source = plain[:2] + DUCKY_SEGMENT + C2PA_SEGMENT + FLASHPIX_SEGMENT + app_segment(0xE4, b"\x07\x01") + plain[2:]
    with caplog.at_level(logging.WARNING):
        enhanced = encode_picture(enhance_image(source), ".jpg")
    assert DUCKY_SEGMENT in enhanced and C2PA_SEGMENT not in enhanced and FLASHPIX_SEGMENT not in enhanced
    assert (
        "the JPEG's C2PA Content Credentials (APP11; they sign the original file, not this output), APP2 'FPXR', "
        "APP4 left out: no output carries them"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        jpegplus.decompress(jpegplus.compress(plain, codec="jpeg", quality=50))  # its own APP11 payload: no word
    assert not caplog.records


def test_png_text_is_kept_where_the_output_holds_it_and_left_out_with_a_warning_elsewhere(
    photo: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    chunks = PngImagePlugin.PngInfo()
    for key, value in {"Title": "Harbour", "Comment": "hi", "Author": "Zoë"}.items():
        chunks.add_text(key, value)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "PNG", pnginfo=chunks)
    enhanced = Image.open(io.BytesIO(encode_picture(enhance_image(buffer.getvalue()), ".png")))
    assert enhanced.text == {"Title": "Harbour", "Comment": "hi", "Author": "Zoë"} and not caplog.records
    compressed = jpegplus.compress(buffer.getvalue(), codec="jpeg", quality=60)
    assert Image.open(io.BytesIO(compressed)).info["comment"] == b"hi"
    assert "Title, Author left out" in caplog.text
    stripped = jpegplus.compress(buffer.getvalue(), codec="jpeg", quality=60, strip=True)
    assert "comment" not in Image.open(io.BytesIO(stripped)).info


def test_a_file_without_a_physical_size_gives_no_density() -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "JPEG")  # JFIF density 1:1, an aspect ratio only
    assert load_image(buffer.getvalue()).dpi is None
    picture = Image.new("RGB", (8, 8))
    for given, read in [((0, 0), None), (("many", 2), None), ((300,), None), ((300, 300.5), (300.0, 300.5))]:
        picture.info["dpi"] = given
        assert metadata.read_dpi(picture) == read


def resolution_exif(*entries: tuple[int, object]) -> bytes:
    tags = Image.Exif()
    tags[0x010F] = "TestMake"
    for key, value in entries:
        tags[key] = value
    return tags.tobytes()


@pytest.mark.parametrize(
    ("pillow_format", "options", "read"),
    [
        ("TIFF", {}, None),  # Pillow: 1 dpi
        ("JPEG", {"exif": resolution_exif()}, None),  # Pillow: 72 dpi
        ("JPEG", {"exif": resolution_exif((0x011A, 1.0), (0x011B, 1.0), (0x0128, 1))}, None),  # no unit; Pillow: 1
        ("JPEG", {"exif": resolution_exif((0x011A, 240.0), (0x011B, 240.0))}, (240.0, 240.0)),  # inches; Pillow: 72
        ("JPEG", {"exif": resolution_exif((0x011A, 100.0), (0x011B, 50.0), (0x0128, 3))}, (254.0, 127.0)),
        ("WEBP", {"exif": resolution_exif((0x011A, 240.0), (0x011B, 240.0))}, (240.0, 240.0)),  # Pillow: none
        ("PNG", {"dpi": (300, 300)}, (300.0, 300.0)),  # Pillow: 299.9994 from 11811 dots per metre
    ],
)
def test_only_the_density_a_file_states_is_read(
    pillow_format: str, options: dict[str, object], read: tuple[float, float] | None
) -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, pillow_format, **options)
    assert load_image(buffer.getvalue()).dpi == read


@pytest.mark.parametrize("codec", ["webp", "avif", "jpeg2000"])
def test_formats_without_a_density_field_of_their_own_keep_it(codec: str, caplog: pytest.LogCaptureFixture) -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "PNG", dpi=(300, 150))
    assert load_image(jpegplus.compress(buffer.getvalue(), codec=codec, quality=60)).dpi == (300.0, 150.0)
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "PNG", dpi=(300, 150), exif=resolution_exif())
    with caplog.at_level(logging.WARNING):
        kept = load_image(jpegplus.compress(buffer.getvalue(), codec=codec, quality=60))
    if codec == "jpeg2000":  # its own box
        assert kept.dpi == (300.0, 150.0) and not caplog.records
    else:  # EXIF's tags, which a block without them would be re-serialised to gain
        assert kept.dpi is None and "300 x 150 dpi left out" in caplog.text


@pytest.mark.parametrize("codec", CODECS)
def test_strip_drops_exif_and_xmp_keeps_icc_and_orientation(codec: str, tmp_path: Path) -> None:
    data = jpegplus.compress(png_with_metadata(sideways()), codec=codec, quality=90, mode="full", strip=True)
    carried = load_image(data)
    assert carried.exif is None and carried.xmp is None and carried.icc == SRGB
    assert is_upright(shown_by_pillow(data)) and is_upright(shown_by_opencv(data, tmp_path / f"s{codec}"))


def test_exif_over_64_kb_is_left_out_of_jpeg_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    source = png_with_metadata(sideways(), exif=camera_exif(padding=70_000))
    with caplog.at_level(logging.WARNING):
        data = jpegplus.compress(source, codec="jpeg", quality=90, mode="full")
    assert "EXIF of" in caplog.text and "limit" in caplog.text
    assert load_image(data).exif is None and b"Rating" in load_image(data).xmp
    assert is_upright(shown_by_pillow(data))  # the orientation it held is baked in
    webp = jpegplus.compress(source, codec="webp", quality=90, mode="full")
    assert len(load_image(webp).exif) > 70_000  # WebP's chunks hold it


def test_xmp_over_64_kb_is_left_out_of_jpeg_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    huge = XMP.replace(b'xmp:Rating="4"', b'xmp:Rating="4" xmp:Label="' + b"y" * 70_000 + b'"')
    with caplog.at_level(logging.WARNING):
        data = jpegplus.compress(png_with_metadata(sideways(), xmp=huge), codec="jpeg", quality=90, mode="full")
    assert "XMP of" in caplog.text
    assert load_image(data).xmp is None and load_image(data).exif is not None


@pytest.mark.parametrize("codec", CODECS)
def test_malformed_exif_is_left_out_with_a_warning(codec: str, caplog: pytest.LogCaptureFixture) -> None:
    source = png_with_metadata(sideways(), exif=b"Exif\0\0not a tiff structure at all", xmp=None)
    with caplog.at_level(logging.WARNING):
        data = jpegplus.compress(source, codec=codec, quality=80, mode="full")
    assert "not a readable TIFF structure" in caplog.text
    carried = load_image(data)
    assert carried.exif is None and carried.icc == SRGB and carried.pixels.shape == (40, 64, 3)
    with caplog.at_level(logging.WARNING):  # the adapter itself never passes it to Pillow's AVIF writer
        assert get_codec(codec).encode(sideways(), 80, exif=b"Exif\0\0MM\0*garbage")


def test_icc_of_the_wrong_colour_space_is_left_out(caplog: pytest.LogCaptureFixture, gray_photo: np.ndarray) -> None:
    gray_icc = SRGB[:16] + b"GRAY" + SRGB[20:]
    loaded = LoadedImage(gray_photo, icc=gray_icc)
    assert metadata.fit(loaded, get_codec("jpeg")).icc == gray_icc  # gray JPEG: it describes the picture
    with caplog.at_level(logging.WARNING):
        assert metadata.fit(loaded, get_codec("webp")).icc is None  # WebP stores gray as RGB
    assert "GRAY ICC profile" in caplog.text


def test_tiff_orientation_tag_is_applied(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "TIFF", tiffinfo={0x0112: 6, 0x010F: "Scanner"})
    assert is_upright(load_image(buffer.getvalue()).pixels)  # Pillow applies a TIFF's orientation on load
    data = jpegplus.compress(buffer.getvalue(), codec="webp", quality=90, mode="full")
    assert is_upright(shown_by_pillow(data)) and is_upright(shown_by_opencv(data, tmp_path / "t.webp"))


def test_jp2_metadata_boxes_round_trip() -> None:
    data = get_codec("jpeg2000").encode(sideways(), 60, exif=camera_exif(), icc=SRGB, xmp=XMP)
    found = read_metadata(data)
    assert found["icc_profile"] == SRGB and found["xmp"] == XMP and found["exif"] == camera_exif()
    assert Image.open(io.BytesIO(data)).size == (64, 40)  # still a JP2 Pillow and OpenJPEG read


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool (libimage-exiftool-perl) is not installed")
def test_exiftool_reads_jp2_metadata(tmp_path: Path) -> None:
    path = tmp_path / "m.jp2"
    path.write_bytes(get_codec("jpeg2000").encode(sideways(), 60, exif=camera_exif(), icc=SRGB, xmp=XMP))
    tags = ["-Make", "-DateTimeOriginal", "-Rating", "-ProfileDescription", "-s3"]
    values = subprocess.run(["exiftool", *tags, str(path)], capture_output=True, text=True, check=True).stdout
    assert values.split("\n")[:4] == ["TestMake", DATE, "4", "sRGB built-in"]
    warnings = subprocess.run(["exiftool", "-validate", "-warning", "-a", str(path)], capture_output=True, text=True)
    assert "Validate                        : OK" in warnings.stdout


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
GREEN = (0, 255, 0)


def chromium_shows(pictures: dict[str, bytes], folder: Path) -> dict[str, np.ndarray]:
    """Each picture as headless Chromium draws it on a green page: its crop of a screenshot."""
    cells = []
    for index, (name, data) in enumerate(pictures.items()):
        (folder / name).write_bytes(data)
        cells.append(f"<img src='{name}' style='position:absolute;left:{index * 100}px;top:0'>")
    page = folder / "page.html"
    page.write_text(f"<html><body style='margin:0;background:#00ff00'>{''.join(cells)}</body></html>")
    shot = folder / "shot.png"
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}", f"--window-size={100 * len(pictures)},400"]
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=180)
    screen = np.asarray(Image.open(shot).convert("RGB"))
    crops = {}
    for index, name in enumerate(pictures):
        cell = screen[:100, index * 100 : index * 100 + 100]
        drawn = np.argwhere(np.abs(cell.astype(int) - GREEN).sum(axis=2) > 60)
        (top, left), (bottom, right) = drawn.min(axis=0), drawn.max(axis=0)
        crops[name] = cell[top : bottom + 1, left : right + 1]
    return crops


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium package is not installed")
def test_chromium_shows_outputs_upright_and_transparent(tmp_path: Path) -> None:
    source = png_with_metadata(sideways())
    pictures = {}
    for codec in ("jpeg", "webp", "avif"):  # Chromium has no JPEG 2000 decoder
        data = jpegplus.compress(source, codec=codec, quality=90, mode="full")
        pictures[f"c{get_codec(codec).extension}"] = data
        pictures[f"d{codec}.png"] = encode_picture(decompress_image(data), ".png")
    see_through = np.dstack([sideways(), np.where(np.arange(64) < 32, 0, 255).astype(np.uint8)[None].repeat(40, 0)])
    for codec in ("webp", "avif"):
        pictures[f"alpha.{codec}"] = jpegplus.compress(see_through, codec=codec, quality=90, mode="full")
    shown = chromium_shows(pictures, tmp_path)
    for name, crop in shown.items():
        if name.startswith("alpha"):  # the left half is transparent: the page's green shows through
            assert crop.shape[:2] == (40, 32) and crop[:, :, 2].mean() > 200, name
        else:
            assert is_upright(crop), name


@pytest.mark.parametrize("codec", ["jpeg", "webp"])
def test_open_gives_the_restored_picture_with_its_metadata(codec: str) -> None:
    data = jpegplus.compress(png_with_metadata(sideways()), codec=codec, quality=90, mode="full")
    opened = jpegplus.open(io.BytesIO(data))
    restored = jpegplus.decompress_image(data)
    stored = (64, 40) if codec == "jpeg" else (40, 64)  # only JPEG keeps the orientation tag; the others bake it
    assert opened.size == stored
    assert np.array_equal(np.asarray(opened), restored.pixels)
    assert opened.info["icc_profile"] == SRGB and b'xmp:Rating="4"' in opened.info["xmp"]
    assert opened.getexif()[0x010F] == "TestMake"
    assert is_upright(np.asarray(ImageOps.exif_transpose(opened)))


def test_open_enhances_a_plain_jpeg_and_leaves_other_pictures_alone(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(sideways()).save(buffer, "JPEG", quality=30, icc_profile=SRGB)
    path = tmp_path / "plain.jpg"
    path.write_bytes(buffer.getvalue())
    opened = jpegplus.open(path)
    assert np.array_equal(np.asarray(opened), jpegplus.enhance(buffer.getvalue()))
    assert opened.info["icc_profile"] == SRGB
    rgba = np.dstack([sideways(), np.full((40, 64), 7, np.uint8)])
    png = io.BytesIO()
    Image.fromarray(rgba).save(png, "PNG")
    untouched = jpegplus.open(png.getvalue())
    assert untouched.mode == "RGBA" and np.array_equal(np.asarray(untouched), rgba)


def test_open_refuses_a_file_that_is_no_image() -> None:
    with pytest.raises(jpegplus.InvalidInputError):
        jpegplus.open(b"not an image at all")
