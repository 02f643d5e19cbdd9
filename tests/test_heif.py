"""HEIF/HEIC inputs (iPhones' photos) through pillow-heif, the ``heif`` extra."""

from __future__ import annotations

import io
import logging
import sys

import numpy as np
import pytest
from PIL import Image

import jpegplus
from conftest import psnr
from jpegplus.codecs import heif
from jpegplus.errors import InvalidInputError
from jpegplus.io import load_image

pillow_heif = pytest.importorskip("pillow_heif")  # installed by scripts/install.sh (the heif extra)

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/></rdf:RDF></x:xmpmeta>'
)


def heic_bytes(image: np.ndarray, orientation: int = 1) -> bytes:
    """An iPhone-like HEIC: EXIF (Make, orientation) and XMP."""
    heif.enable()
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = orientation, "Apple"
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "HEIF", quality=90, exif=exif.tobytes(), xmp=XMP)
    return buffer.getvalue()


def test_a_heic_is_read_upright_with_its_metadata_and_compressed_to_a_jpeg(photo: np.ndarray) -> None:
    data = heic_bytes(photo, orientation=6)  # stored as shot, turned a quarter clockwise when shown
    assert heif.is_heif(data) and not heif.is_heif(jpegplus.compress(photo, codec="avif", quality=50))
    loaded = load_image(data)
    assert loaded.pixels.shape == (128, 96, 3) and psnr(np.rot90(photo, -1), loaded.pixels) > 30
    compressed = jpegplus.compress(data, codec="jpeg", quality=60)
    shown = Image.open(io.BytesIO(compressed))
    assert shown.size == (96, 128) and shown.getexif()[0x0112] == 1 and shown.getexif()[0x010F] == "Apple"
    assert b'xmp:Rating="5"' in shown.info["xmp"]


def test_without_pillow_heif_a_heic_gets_one_line_saying_how_to_read_it(
    photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = heic_bytes(photo)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # as if not installed
    monkeypatch.setattr(heif, "enable", heif.enable.__wrapped__)  # not the cached registration
    with pytest.raises(InvalidInputError, match=r"reading it needs pillow-heif, pip install 'jpegplus\[heif\]'"):
        jpegplus.compress(data)


def test_what_no_output_holds_is_named_in_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    picture = Image.new("RGB", (8, 8))
    picture.info.update(bit_depth=10, depth_images=[object()], aux={"urn:com:apple:photo:2020:aux:hdrgainmap": [2]})
    with caplog.at_level(logging.WARNING):
        heif.note_left_out(picture)
    assert "10 bits per sample" in caplog.text
    assert "depth map and auxiliary images (an HDR gain map travels there) left out" in caplog.text
    assert "nclx" not in caplog.text
    caplog.clear()
    picture.info.update(nclx_profile={"color_primaries": 12, "transfer_characteristics": 13})  # Display P3
    with caplog.at_level(logging.WARNING):
        heif.note_left_out(picture)
    assert "colours as nclx primaries 12, transfer 13, without an ICC profile: read as sRGB" in caplog.text
    caplog.clear()
    picture.info["icc_profile"] = b"a Display P3 profile"
    with caplog.at_level(logging.WARNING):
        heif.note_left_out(picture)
    assert "nclx" not in caplog.text
