"""EXIF, ICC and XMP on their way from the input file to each output.

- **Read**: EXIF is kept as Pillow's JPEG form (``Exif\\0\\0`` + a TIFF block); a block that is not
  a readable TIFF structure is left out with a warning.
- **Orientation**: only JPEG is turned upright by every viewer from its EXIF orientation
  (Chromium, Pillow's ``exif_transpose``, OpenCV's ``imread``). Chromium shows WebP sideways,
  OpenCV ignores AVIF's rotation box and PNG, TIFF and JP2 support varies, so for every other
  output the rotation is baked into the pixels and the carried EXIF (and XMP) says 1.
- **Fit**: EXIF or XMP a format cannot hold (JPEG's 64 KB segments) is left out with a warning, its
  orientation baked in first; ``strip`` leaves out EXIF (GPS with it) and XMP but keeps ICC.
"""

from __future__ import annotations

import io
import logging
import re
import struct
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image, PngImagePlugin

from jpegplus.codecs.jp2meta import write_metadata
from jpegplus.codecs.pillow_codec import COMMENT, EXIF_PREFIX, exif_tags, usable_exif, within_limit

if TYPE_CHECKING:
    from jpegplus.io import LoadedImage

log = logging.getLogger(__name__)

ORIENTATION = 0x0112
SHORT = 3  # TIFF field type of the orientation value
XMP_ORIENTATION = re.compile(rb'(tiff:Orientation="|<tiff:Orientation>)([1-8])')
PNG_XMP_KEY = "XML:com.adobe.xmp"  # the iTXt chunk PNG keeps XMP in
FORMAT_TEXT_KEYS: dict[str, frozenset[str] | None] = {"PNG": None, "JPEG": frozenset({COMMENT})}  # None: any key
TRANSPOSING = 5  # orientations 5-8 swap rows and columns
# (flip rows, flip columns) after transposing for orientations 5-8, as EXIF defines the values
FLIPS = {1: (False, False), 2: (False, True), 3: (True, True), 4: (True, False),
         5: (False, False), 6: (False, True), 7: (True, True), 8: (True, False)}  # fmt: skip


class Carrier(Protocol):
    """What an output format does with pixels and metadata (codec adapters and :data:`PLAIN_FILE`)."""

    @property
    def carries_gray(self) -> bool: ...
    @property
    def shows_exif_orientation(self) -> bool: ...
    @property
    def exif_limit(self) -> int | None: ...
    @property
    def xmp_limit(self) -> int | None: ...
    @property
    def text_keys(self) -> frozenset[str] | None: ...  # the text fields the format holds (None: any)


@dataclass(frozen=True)
class FileFormat:
    """A :class:`Carrier` for decoded outputs (PNG, TIFF, …): gray kept, orientation baked, no size limits,
    any text (PNG's chunks; :func:`save_options` warns where another format drops it)."""

    carries_gray: bool = True
    shows_exif_orientation: bool = False
    exif_limit: int | None = None
    xmp_limit: int | None = None
    text_keys: frozenset[str] | None = None


PLAIN_FILE = FileFormat()


def read_exif(picture: Image.Image) -> bytes | None:
    """The EXIF of a decoded file, or ``None`` (a TIFF's own orientation Pillow applies when loading)."""
    raw = picture.info.get("exif")
    return usable_exif(bytes(raw)) if raw else None


def read_xmp(picture: Image.Image) -> bytes | None:
    """The XMP packet of a decoded file, or ``None``."""
    xmp = picture.info.get("xmp")
    if not xmp:
        return None
    return xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)


def read_text(picture: Image.Image) -> dict[str, str] | None:
    """A decoded file's text fields: a PNG's text chunks (XMP aside, which :func:`read_xmp` reads) or the
    comment of a JPEG or GIF as ``Comment``; ``None`` without any."""
    if picture.format == "PNG":
        chunks = {key: str(value) for key, value in getattr(picture, "text", {}).items() if key != PNG_XMP_KEY}
        return chunks or None
    comment = picture.info.get("comment")
    if not comment:
        return None
    return {COMMENT: comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)}


def read_dpi(picture: Image.Image) -> tuple[float, float] | None:
    """The (horizontal, vertical) dots per inch a decoded file gives (JPEG's JFIF density or EXIF resolution,
    PNG's pHYs, TIFF's resolution), or ``None`` when it gives no physical size."""
    dpi: Any = picture.info.get("dpi", ())
    try:
        horizontal, vertical = (float(value) for value in dpi)
    except (TypeError, ValueError, ZeroDivisionError):  # absent, malformed, or a TIFF rational over zero
        return None
    return (horizontal, vertical) if 0 < horizontal < np.inf and 0 < vertical < np.inf else None


def orientation(exif: bytes | None, xmp: bytes | None) -> int:
    """The EXIF orientation (1-8), else XMP's ``tiff:Orientation`` (which Pillow reads too), else 1."""
    tags = exif_tags(exif) if exif else None
    if tags is not None and ORIENTATION in tags:
        value = tags[ORIENTATION]
        return value if value in FLIPS else 1
    found = XMP_ORIENTATION.search(xmp) if xmp else None
    return int(found.group(2)) if found else 1


def orient(array: np.ndarray, value: int) -> np.ndarray:
    """``array`` (H, W[, C]) as EXIF orientation ``value`` says it is displayed (what ``exif_transpose`` does)."""
    if value >= TRANSPOSING:
        array = array.swapaxes(0, 1)
    flip_rows, flip_columns = FLIPS[value]
    return np.ascontiguousarray(array[:: -1 if flip_rows else 1, :: -1 if flip_columns else 1])


def upright(loaded: LoadedImage) -> LoadedImage:
    """The image turned as its orientation says, its EXIF and XMP then saying 1 (a quarter turn swaps the
    horizontal and vertical density)."""
    value = orientation(loaded.exif, loaded.xmp)
    if value == 1:
        return loaded
    alpha = None if loaded.alpha is None else orient(loaded.alpha, value)
    exif = _orientation_one(loaded.exif) if loaded.exif else None
    xmp = XMP_ORIENTATION.sub(rb"\g<1>1", loaded.xmp) if loaded.xmp else None
    dpi = loaded.dpi[::-1] if loaded.dpi and value >= TRANSPOSING else loaded.dpi
    return replace(loaded, pixels=orient(loaded.pixels, value), alpha=alpha, exif=exif, xmp=xmp, dpi=dpi)


def fit(loaded: LoadedImage, carrier: Carrier, *, strip: bool = False) -> LoadedImage:
    """The image and metadata an output of ``carrier``'s format gets (see the module notes).

    EXIF or XMP too large for the format, text fields it has no place for and an ICC profile of the wrong
    colour space are left out with a warning; ``strip`` leaves out EXIF, XMP and text and keeps ICC.
    Displayed orientation never changes.
    """
    exif_fits = within_limit(loaded.exif, carrier.exif_limit, "EXIF") is not None
    tagged = exif_fits and loaded.exif is not None and ORIENTATION in (exif_tags(loaded.exif) or {})
    turned = loaded if carrier.shows_exif_orientation and tagged and not strip else upright(loaded)
    if strip or not exif_fits:
        turned = replace(turned, exif=None)
    xmp = None if strip else within_limit(turned.xmp, carrier.xmp_limit, "XMP")
    text = None if strip else carried_text(turned.text, carrier.text_keys)
    channels = 1 if turned.pixels.ndim == 2 and carrier.carries_gray else 3
    return replace(turned, xmp=xmp, text=text, icc=_matching_icc(turned.icc, channels))


def carried_text(text: dict[str, str] | None, keys: frozenset[str] | None) -> dict[str, str] | None:
    """The fields of ``text`` that a format holding ``keys`` (``None``: any) keeps; the others are left out
    with a warning."""
    if not text:
        return None
    kept = {key: value for key, value in text.items() if keys is None or key in keys}
    if left := [key for key in text if key not in kept]:
        held = f"only the text field {', '.join(sorted(keys))}" if keys else "no text fields"
        log.warning("the output format holds %s: %s left out", held, ", ".join(left))
    return kept or None


def save_options(loaded: LoadedImage, pillow_format: str) -> dict[str, Any]:
    """Keyword arguments of ``PIL.Image.save`` that carry ``loaded``'s EXIF, ICC, XMP, pixel density and text in
    ``pillow_format`` (WebP and AVIF have no density of their own: EXIF's resolution is theirs; only PNG holds
    any text field, JPEG a comment)."""
    exif, icc, xmp, dpi = loaded.exif, loaded.icc, loaded.xmp, loaded.dpi
    text = carried_text(loaded.text, FORMAT_TEXT_KEYS.get(pillow_format, frozenset())) or {}
    if pillow_format in ("JPEG", "WEBP", "AVIF"):
        options: dict[str, Any] = {
            "exif": exif,
            "icc_profile": icc,
            "xmp": xmp,
            "dpi": dpi,
            "comment": text.get(COMMENT),
        }
    elif pillow_format == "PNG":
        chunks = PngImagePlugin.PngInfo()
        if xmp:
            chunks.add_itxt(PNG_XMP_KEY, xmp.decode("utf-8", "replace"))
        for key, value in text.items():
            chunks.add_text(key, value)  # tEXt where Latin-1 holds it, else iTXt
        options = {"exif": exif, "icc_profile": icc, "pnginfo": chunks, "dpi": dpi}
    elif pillow_format == "TIFF":
        options = {"exif": exif, "icc_profile": icc, "tiffinfo": {700: xmp} if xmp else {}, "dpi": dpi}
    else:
        if exif or icc or xmp:
            log.warning("%s files do not carry EXIF, ICC or XMP here; they are left out", pillow_format)
        return {}
    return {key: value for key, value in options.items() if value}


def encode_with_metadata(picture: Image.Image, loaded: LoadedImage, pillow_format: str) -> bytes:
    """``picture`` encoded as ``pillow_format`` with ``loaded``'s metadata (JP2's boxes written here)."""
    buffer = io.BytesIO()
    if pillow_format == "JPEG2000":  # Pillow writes no metadata into JP2
        picture.save(buffer, pillow_format)
        return write_metadata(buffer.getvalue(), exif=loaded.exif, icc=loaded.icc, xmp=loaded.xmp)
    picture.save(buffer, pillow_format, **save_options(loaded, pillow_format))
    return buffer.getvalue()


def _orientation_one(exif: bytes) -> bytes:
    """``exif`` saying orientation 1: the value patched in place (every other byte kept), else re-serialised."""
    tiff = bytearray(exif.removeprefix(EXIF_PREFIX))
    order = "<" if tiff[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, offset)
        for entry in range(offset + 2, offset + 2 + 12 * count, 12):
            tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
            if tag == ORIENTATION and kind == SHORT and number == 1:
                struct.pack_into(order + "H", tiff, entry + 8, 1)
                return EXIF_PREFIX + bytes(tiff)
    except struct.error:
        pass
    tags = exif_tags(exif)
    if tags is None:
        return exif
    tags[ORIENTATION] = 1
    return tags.tobytes()


def _matching_icc(icc: bytes | None, channels: int) -> bytes | None:
    """``icc`` unless its header names a colour space other than the stored one (gray or RGB)."""
    space = icc[16:20] if icc else b""
    if space in (b"GRAY", b"RGB ") and space != (b"GRAY" if channels == 1 else b"RGB "):
        log.warning("the %s ICC profile cannot describe the %s picture stored; it is left out",
                    space.decode().strip(), "gray" if channels == 1 else "RGB")  # fmt: skip
        return None
    return icc
