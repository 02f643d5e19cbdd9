"""HEIF/HEIC inputs (iPhones' photos), read through pillow-heif (the ``heif`` extra) when it is installed.

Pillow reads no HEVC-coded HEIF of its own. pillow-heif's opener decodes the primary image with libheif, turned
as the file's transforms say (its EXIF then says orientation 1), with EXIF, XMP and the ICC profile in
``info``; 10-bit images arrive reduced to 8 bits. What a JPEG, PNG or WebP output cannot hold (depth maps, the
auxiliary images Apple's HDR gain map travels in) is left out with a warning.
"""

from __future__ import annotations

import functools
import logging

from PIL import Image

from jpegplus.errors import InvalidInputError

log = logging.getLogger(__name__)

HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})  # ISO/IEC 23008-12
EXTENSIONS = {".heic": "HEIF", ".heif": "HEIF", ".hif": "HEIF"}  # what pillow-heif's opener registers with Pillow
BRANDS_END = 64  # the ftyp box's brands: major, then compatible ones, within the file's first bytes
SRGB_PRIMARIES = frozenset({1, 2})  # nclx colour primaries BT.709 (sRGB's) and unspecified (ITU-T H.273)
HDR_TRANSFERS = frozenset({16, 18})  # nclx transfer characteristics PQ and HLG


def is_heif(data: bytes) -> bool:
    """Whether ``data`` opens with an ISO-BMFF ``ftyp`` box naming an HEVC-coded HEIF brand (AVIF names none)."""
    if data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[:4], "big")
    brands = data[8 : min(size, BRANDS_END)]
    return any(brands[i : i + 4] in HEVC_BRANDS for i in range(0, len(brands), 4))


@functools.cache
def enable() -> None:
    """Register pillow-heif's opener with Pillow (once); without pillow-heif, a one-line error saying how to add it."""
    try:
        import pillow_heif
    except ImportError:
        msg = "a HEIF/HEIC file (an iPhone photo?): reading it needs pillow-heif, pip install 'jpegplus[heif]'"
        raise InvalidInputError(msg) from None
    pillow_heif.register_heif_opener()


def note_left_out(picture: Image.Image) -> None:
    """Warn about what the HEIF holds beside its 8-bit primary image that no output keeps, and about colours that
    only its nclx box describes (no ICC profile) other than sRGB's, which are read as sRGB."""
    info = picture.info
    nclx = info.get("nclx_profile") or {}
    wide = nclx.get("color_primaries", 1) not in SRGB_PRIMARIES or nclx.get("transfer_characteristics") in HDR_TRANSFERS
    if wide and not info.get("icc_profile"):
        log.warning(
            "the HEIF gives its colours as nclx primaries %s, transfer %s, without an ICC profile: read as sRGB, "
            "they may look duller or shifted",
            nclx.get("color_primaries"), nclx.get("transfer_characteristics"),
        )  # fmt: skip
    if (bits := info.get("bit_depth", 8)) > 8:
        log.warning("the HEIF has %d bits per sample; jpegplus works on 8 bits, so it was reduced to 8", bits)
    left = [name for key, name in (("depth_images", "depth map"), ("aux", "auxiliary images")) if info.get(key)]
    if left:
        log.warning("the HEIF's %s (an HDR gain map travels there) left out: no output holds them", " and ".join(left))
