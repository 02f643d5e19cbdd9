"""EXIF, ICC and XMP on their way from the input file to each output.

- **Read**: EXIF is kept as Pillow's JPEG form (``Exif\\0\\0`` + a TIFF block); a block that is not
  a readable TIFF structure is left out with a warning.
- **Orientation**: only JPEG is turned upright by every viewer from its EXIF orientation
  (Chromium, Pillow's ``exif_transpose``, OpenCV's ``imread``). Chromium shows WebP sideways,
  OpenCV ignores AVIF's rotation box and PNG, TIFF and JP2 support varies, so for every other
  output the rotation is baked into the pixels and the carried EXIF (and XMP) says 1.
- **Fit**: EXIF or XMP a format cannot hold (JPEG's 64 KB segments) is left out with a warning, its
  orientation baked in first; ``strip`` leaves out EXIF (GPS with it), XMP, IPTC and text but keeps ICC. What a JPEG's
  file holds after its picture (:mod:`jpegplus.codecs.jpeg.appended`: an MPO's further pictures, a motion
  photo's video) travels into JPEG outputs only, with a warning elsewhere.
- **IPTC**: a JPEG's APP13 segment in a JPEG, the same Photoshop IRB in a PNG's ``Raw profile type iptc`` text
  (:mod:`jpegplus.codecs.raw_profiles`), a TIFF's Photoshop and IPTC-NAA tags and a JP2's IPTC box; WebP and
  AVIF leave it out with a warning.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PIL import Image, JpegImagePlugin, PngImagePlugin

from jpegplus.codecs.exif import (
    EXIF_PREFIX,
    ORIENTATION,
    density,
    exif_tags,
    for_pillow_writer,
    orientation_one,
    thumbnail,
    usable_exif,
    with_density,
    with_sizes_swapped,
    with_thumbnail,
)
from jpegplus.codecs.jp2meta import write_metadata
from jpegplus.codecs.jpeg.appended import Appended
from jpegplus.codecs.jpeg.codec import segment_payload
from jpegplus.codecs.jpeg.markers import SEGMENT_BODY_LIMIT
from jpegplus.codecs.pillow_codec import COMMENT, open_image, within_limit
from jpegplus.codecs.raw_profiles import (
    RAW_IPTC_KEY,
    RAW_PROFILE_KEYS,
    iptc_irb,
    iptc_profile,
    iptc_segment,
    irb_records,
    irb_segment,
    is_iptc_segment,
    profile_data,
    records_irb,
)
from jpegplus.errors import InvalidInputError

if TYPE_CHECKING:
    from jpegplus.io import LoadedImage

log = logging.getLogger(__name__)

XMP_ORIENTATION = re.compile(rb'(tiff:Orientation="|<tiff:Orientation>)([1-8])')
THUMBNAIL_MAX_PIXELS = 1 << 20  # EXIF thumbnails are about 160x120; a larger claim is not one to turn
XMP_PIXEL_SIZE = re.compile(rb'(exif:Pixel([XY])Dimension(?:="|>))([0-9]+)')
PNG_XMP_KEY = "XML:com.adobe.xmp"  # the iTXt chunk PNG keeps XMP in
XMP_TAG = 700  # TIFF's XMP tag
PHOTOSHOP_TAG = 34377  # TIFF's tag of Photoshop's image resource blocks (where a TIFF keeps IPTC)
IPTC_NAA_TAG = 33723  # TIFF's tag of bare IPTC-IIM records
TIFF_IPTC_TAGS = (PHOTOSHOP_TAG, IPTC_NAA_TAG)  # read apart, as the IPTC segment
APP_MARKERS = {f"APP{n}": 0xE0 + n for n in range(16)}  # Pillow's names of a JPEG's APPn segments
CARRIED_SEGMENTS = {  # name: (APPn segment, how its body opens)
    "IPTC (Photoshop APP13)": ("APP13", b"Photoshop 3.0\0"),
    "extended XMP": ("APP1", b"http://ns.adobe.com/xmp/extension/\0"),
    "Ducky (Photoshop APP12: quality, comment, copyright)": ("APP12", b"Ducky"),
}
READ_SEGMENTS = (  # APPn segments another field reads (or the decoder: Adobe's colour transform): (kind, opening)
    ("APP0", b"JFIF\0"), ("APP1", b"Exif\0"), ("APP1", b"http://ns.adobe.com/xap/1.0/\0"),
    ("APP2", b"ICC_PROFILE\0"), ("APP2", b"MPF\0"), ("APP14", b"Adobe"),
)  # fmt: skip
C2PA_LABEL = b"c2pa"  # the JUMBF label of a C2PA manifest store (Content Credentials) in APP11
# TIFF tags of how the file stores its pixels (size, samples, compression, strips and tiles, colour map), and
# its ICC profile (read apart), none of which describes the picture another file holds
TIFF_LAYOUT_TAGS = frozenset({254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 317, 320,
                              322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514, 529, 530, 531, 532, XMP_TAG,
                              34675})  # fmt: skip
INCHES_PER_METRE = 1 / 0.0254
GIF_XMP_EXTENSION = b"\x21\xff\x0bXMP DataXMP"  # a GIF application extension of the XMP specification
XMP_MAGIC_TRAILER = b"\x01" + bytes(range(255, -1, -1))  # 0x01, 0xFF down to 0x00: where its packet ends
OPENJPEG_COMMENT = b"Created by OpenJPEG version"  # what OpenJPEG writes into every codestream: not the user's
JFIF_DENSITY_UNITS = (1, 2)  # dots per inch, per centimetre (0: an aspect ratio only)
EXIF_DENSITY_FORMATS = ("JPEG", "MPO", "WEBP", "AVIF", "HEIF")  # EXIF states the density (a JPEG's JFIF first)
DENSITY_IN_EXIF = ("WEBP", "AVIF")  # formats whose only pixel density field is EXIF's
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
    @property
    def holds_jpeg_segments(self) -> bool: ...  # whether a JPEG's IPTC, extended XMP and appended data travel whole
    @property
    def holds_iptc(self) -> bool: ...  # whether IPTC travels as the format keeps it (JPEG, JPEG 2000)


@dataclass(frozen=True)
class FileFormat:
    """A :class:`Carrier` for decoded outputs (PNG, TIFF, …): gray kept, orientation baked, no size limits,
    any text (PNG's chunks; :func:`save_options` warns where another format drops it)."""

    carries_gray: bool = True
    shows_exif_orientation: bool = False
    exif_limit: int | None = None
    xmp_limit: int | None = None
    text_keys: frozenset[str] | None = None
    holds_jpeg_segments: bool = False
    holds_iptc: bool = False  # PNG and TIFF get it through :func:`iptc_in_place` and :func:`save_options`


PLAIN_FILE = FileFormat()


def read_exif(picture: Image.Image) -> bytes | None:
    """The EXIF of a decoded file, or ``None``. A TIFF's is its own tags but those of its layout (read once its
    pixels are loaded, when Pillow has applied and dropped its orientation)."""
    raw = picture.info.get("exif") or _raw_profile(picture, "exif")
    if raw:
        return usable_exif(raw if raw.startswith(EXIF_PREFIX) else EXIF_PREFIX + raw)
    return _tiff_exif(picture) if picture.format == "TIFF" else None


def _tiff_exif(picture: Image.Image) -> bytes | None:
    with _iptc_truncation_unannounced():
        tags = exif_tags(picture.getexif().tobytes())  # a copy: the picture's own tags stay as they are
    if tags is None:
        log.warning("EXIF that is not a readable TIFF structure is left out")
        return None
    for key in TIFF_LAYOUT_TAGS.union(TIFF_IPTC_TAGS) & set(tags):
        del tags[key]
    return tags.tobytes() if tags else None


def read_xmp(picture: Image.Image, data: bytes | None = None) -> bytes | None:
    """The XMP packet of a decoded file, or ``None``; a GIF's is read from its ``data`` (Pillow skips it)."""
    xmp = (
        picture.info.get("xmp") or _raw_profile(picture, "xmp") or (_gif_xmp(data) if picture.format == "GIF" else None)
    )
    if not xmp:
        return None
    return xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)


def _gif_xmp(data: bytes | None) -> bytes | None:
    """The XMP packet of a GIF's XMP application extension: raw bytes up to Adobe's 258-byte "magic trailer"
    (which makes GIF readers skip the packet as sub-blocks)."""
    start = data.find(GIF_XMP_EXTENSION) if data else -1
    if data is None or start < 0:
        return None
    start += len(GIF_XMP_EXTENSION)
    end = data.find(XMP_MAGIC_TRAILER, start)
    return data[start:end] if end > start else None


def _raw_profile(picture: Image.Image, kind: str) -> bytes | None:
    """A PNG's ImageMagick raw profile of ``kind`` (exif, xmp) where the PNG has no field of its own for it."""
    if picture.format != "PNG" or picture.info.get(kind):
        return None
    text = getattr(picture, "text", {}).get(RAW_PROFILE_KEYS[kind])
    return profile_data(str(text)) if text else None


def read_text(picture: Image.Image) -> dict[str, str] | None:
    """A decoded file's text fields: a PNG's text chunks (XMP aside, which :func:`read_xmp` reads, and the raw
    profiles read as EXIF and XMP) or the comment of a JPEG or GIF as ``Comment``; ``None`` without any."""
    if picture.format == "PNG":
        read = {PNG_XMP_KEY} | {RAW_PROFILE_KEYS[kind] for kind in ("exif", "xmp") if _raw_profile(picture, kind)}
        chunks = {key: str(value) for key, value in getattr(picture, "text", {}).items() if key not in read}
        return chunks or None
    comment = picture.info.get("comment")
    if not comment or (isinstance(comment, bytes) and comment.startswith(OPENJPEG_COMMENT)):
        return None
    return {COMMENT: comment.decode("utf-8", "replace") if isinstance(comment, bytes) else str(comment)}


def read_segments(picture: Image.Image, data: bytes | None = None) -> tuple[bytes, ...] | None:
    """A JPEG's metadata segments that no other field reads, whole: IPTC (Photoshop's APP13) and the extended XMP
    that continues a packet over 64 KB (APP1); a TIFF's IPTC as such a segment (read from the file's ``data``
    where given); ``None`` without any."""
    if picture.format == "TIFF":
        segment = _tiff_iptc(picture, data)
        return (segment,) if segment else None
    if picture.format == "JPEG2000" and (records := picture.info.get("iptc")):
        segment = irb_segment(records_irb(records))
        return (segment,) if segment else None
    segments = tuple(
        struct.pack(">BBH", 0xFF, APP_MARKERS[kind], len(body) + 2) + body
        for kind, body in getattr(picture, "applist", [])
        if _segment_name(kind, body)
    )
    return segments or None


def _tiff_iptc(picture: Image.Image, data: bytes | None) -> bytes | None:
    """A TIFF's IPTC as an APP13 segment: its Photoshop IRB, else (or where the IRB outgrows a segment) its
    IPTC-NAA records. tifffile reads them whole from ``data``: Pillow keeps one number of the LONG-typed IPTC-NAA
    that Photoshop and ExifTool write, so without ``data`` such a tag is left out with a warning."""
    irb, records = _tiff_iptc_tags(picture, data)
    segment = (irb_segment(irb) if irb else None) or (irb_segment(records_irb(records)) if records else None)
    if (irb or records) and segment is None:
        log.warning("the TIFF's IPTC is larger than a JPEG segment holds: left out")
    return segment


@contextlib.contextmanager
def _iptc_truncation_unannounced() -> Iterator[None]:
    """Pillow's reading of a TIFF's tags without its raw warning as it keeps one number of a LONG-typed IPTC-NAA
    (Photoshop's and ExifTool's), which :func:`_tiff_iptc` reads apart."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Metadata Warning", UserWarning)
        yield


def _tiff_iptc_tags(picture: Image.Image, data: bytes | None) -> list[bytes | None]:
    """The bytes of a TIFF's :data:`TIFF_IPTC_TAGS` (``None`` where absent or not readable whole)."""
    if data is not None:
        import tifffile

        try:
            with tifffile.TiffFile(io.BytesIO(data)) as tiff:
                tags = tiff.pages.first.tags
                return [value if isinstance(value := getattr(tags.get(code), "value", None), bytes) else None
                        for code in TIFF_IPTC_TAGS]  # fmt: skip
        except Exception:  # tifffile fails in many ways on hostile bytes; Pillow read the picture
            log.debug("tifffile cannot read the TIFF's tags; Pillow's reading is used")
    with _iptc_truncation_unannounced():
        values = [picture.tag_v2.get(code) if hasattr(picture, "tag_v2") else None for code in TIFF_IPTC_TAGS]
    if any(value is not None and not isinstance(value, bytes) for value in values):
        log.warning("the TIFF's IPTC-NAA tag is not readable whole without its file: left out")
    return [value if isinstance(value, bytes) else None for value in values]


def _segment_name(kind: str, body: bytes) -> str | None:
    """What a JPEG's APPn segment (``kind``, ``body``) carries, if it is one of :func:`read_segments`'s."""
    for name, (wanted, opening) in CARRIED_SEGMENTS.items():
        if kind == wanted and body.startswith(opening):
            return name
    return None


def note_left_out_segments(picture: Image.Image) -> None:
    """Warn about a JPEG's APPn segments that no field reads and no output carries, naming them: C2PA Content
    Credentials (which sign the original file, not what jpegplus writes), a camera maker's segments, …"""
    left = []
    for kind, body in getattr(picture, "applist", []):
        read = any(kind == wanted and body.startswith(opening) for wanted, opening in READ_SEGMENTS)
        if kind == "COM" or read or _segment_name(kind, body) or segment_payload(kind, body) is not None:
            continue
        if kind == "APP11" and C2PA_LABEL in body[:80]:
            left.append("C2PA Content Credentials (APP11; they sign the original file, not this output)")
        else:
            opening = body[:12].split(b"\0", 1)[0].decode("latin-1")
            left.append(f"{kind} {opening!r}" if opening.isprintable() and opening else kind)
    if left:
        log.warning("the JPEG's %s left out: no output carries them", ", ".join(dict.fromkeys(left)))


def carried_segments(
    segments: tuple[bytes, ...] | None, held: bool, *, iptc_held: bool = False
) -> tuple[bytes, ...] | None:
    """``segments`` where the format holds them (the IPTC one where it holds IPTC), the rest left out with a
    warning naming them."""
    if not segments or held:
        return segments
    kept = tuple(segment for segment in segments if iptc_held and is_iptc_segment(segment))
    if left := [segment for segment in segments if segment not in kept]:
        names = sorted({_segment_name(f"APP{segment[1] - 0xE0}", segment[4:]) or "?" for segment in left})
        log.warning("the output format has no place for the input's %s: left out", " and ".join(names))
    return kept or None


def read_dpi(picture: Image.Image) -> tuple[float, float] | None:
    """The (horizontal, vertical) dots per inch a decoded file gives (JPEG's JFIF density or EXIF resolution,
    PNG's pHYs, TIFF's resolution, JP2's capture resolution, the EXIF of WebP, AVIF and HEIF), or ``None`` when
    it gives no physical size (:func:`jpegplus.codecs.exif.density`: only what the file states)."""
    dpi: Any
    if picture.format == "TIFF":
        dpi = density(getattr(picture, "tag_v2", {})) or ()
    elif picture.format in EXIF_DENSITY_FORMATS and picture.info.get("jfif_unit") not in JFIF_DENSITY_UNITS:
        dpi = density(picture.getexif()) or ()
    else:
        dpi = picture.info.get("dpi", ())
    try:
        horizontal, vertical = (float(value) for value in dpi)
    except (TypeError, ValueError, ZeroDivisionError):  # absent, malformed, or a TIFF rational over zero
        return None
    if picture.format == "PNG":
        horizontal, vertical = _whole_dpi(horizontal), _whole_dpi(vertical)
    return (horizontal, vertical) if 0 < horizontal < np.inf and 0 < vertical < np.inf else None


def _whole_dpi(dots_per_inch: float) -> float:
    """PNG holds whole dots per metre: the whole dpi they were rounded from (300 for Pillow's 299.9994), if any."""
    whole = round(dots_per_inch)
    same_count = round(whole * INCHES_PER_METRE) == round(dots_per_inch * INCHES_PER_METRE)
    return float(whole) if same_count else dots_per_inch


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
    horizontal and vertical density, and EXIF's pixel width and height)."""
    value = orientation(loaded.exif, loaded.xmp)
    if value == 1:
        return loaded
    alpha = None if loaded.alpha is None else orient(loaded.alpha, value)
    exif = _with_turned_thumbnail(orientation_one(loaded.exif), value) if loaded.exif else None
    if exif and value >= TRANSPOSING:
        exif = with_sizes_swapped(exif)
    xmp = XMP_ORIENTATION.sub(rb"\g<1>1", loaded.xmp) if loaded.xmp else None
    if xmp and value >= TRANSPOSING:
        xmp = _xmp_sizes_swapped(xmp)
    dpi = loaded.dpi[::-1] if loaded.dpi and value >= TRANSPOSING else loaded.dpi
    return replace(loaded, pixels=orient(loaded.pixels, value), alpha=alpha, exif=exif, xmp=xmp, dpi=dpi)


def _xmp_sizes_swapped(xmp: bytes) -> bytes:
    """``xmp`` with the values of its exif:PixelXDimension and exif:PixelYDimension traded (when it has both)."""
    sizes = {found.group(2): found.group(3) for found in XMP_PIXEL_SIZE.finditer(xmp)}
    if set(sizes) != {b"X", b"Y"}:
        return xmp
    return XMP_PIXEL_SIZE.sub(lambda found: found.group(1) + sizes[b"Y" if found.group(2) == b"X" else b"X"], xmp)


def _with_turned_thumbnail(exif: bytes, value: int) -> bytes:
    """``exif`` with its JPEG thumbnail turned as orientation ``value`` says, to match the upright picture (encoded
    again with its own tables and sampling); unchanged when it has none, it does not decode, or it would outgrow
    what a JPEG's EXIF segment holds."""
    small = thumbnail(exif)
    if small is None:
        return exif
    buffer = io.BytesIO()
    try:
        picture = open_image(small, "JPEG", max_pixels=THUMBNAIL_MAX_PIXELS)  # a forged header is refused
        bands = [Image.fromarray(orient(np.asarray(band), value)) for band in picture.split()]
        turned = Image.merge(picture.mode, bands)
        tables = getattr(picture, "quantization", None)  # a JpegImageFile's own tables
        turned.save(buffer, "JPEG", qtables=tables, subsampling=JpegImagePlugin.get_sampling(picture))
    except (InvalidInputError, OSError, ValueError):
        return exif
    result = with_thumbnail(exif, buffer.getvalue())
    return result if len(result) <= max(len(exif), SEGMENT_BODY_LIMIT) else exif


def fit(loaded: LoadedImage, carrier: Carrier, *, strip: bool = False) -> LoadedImage:
    """The image and metadata an output of ``carrier``'s format gets (see the module notes).

    EXIF or XMP too large for the format, text fields it has no place for and an ICC profile of the wrong
    colour space are left out with a warning; ``strip`` leaves out EXIF, XMP, IPTC and text and keeps ICC.
    Displayed orientation never changes.
    """
    exif_fits = within_limit(loaded.exif, carrier.exif_limit, "EXIF") is not None
    tagged = exif_fits and loaded.exif is not None and ORIENTATION in (exif_tags(loaded.exif) or {})
    turned = loaded if carrier.shows_exif_orientation and tagged and not strip else upright(loaded)
    if strip or not exif_fits:
        turned = replace(turned, exif=None)
    xmp = None if strip else within_limit(turned.xmp, carrier.xmp_limit, "XMP")
    text, segments = (None, None) if strip else iptc_in_place(turned.text, turned.segments, carrier)
    text = carried_text(text, carrier.text_keys)
    segments = carried_segments(segments, carrier.holds_jpeg_segments, iptc_held=carrier.holds_iptc)
    appended = _carried_appended(loaded, turned, carrier.holds_jpeg_segments, strip=strip)
    channels = 1 if turned.pixels.ndim == 2 and carrier.carries_gray else 3
    icc = _matching_icc(turned.icc, channels)
    return replace(turned, xmp=xmp, text=text, segments=segments, appended=appended, icc=icc)


def iptc_in_place(
    text: dict[str, str] | None, segments: tuple[bytes, ...] | None, carrier: Carrier
) -> tuple[dict[str, str] | None, tuple[bytes, ...] | None]:
    """``text`` and ``segments`` with IPTC where ``carrier``'s format keeps it: a PNG's raw-profile text field
    becomes an APP13 segment where IPTC travels (JPEG, JPEG 2000), a JPEG's APP13 segments that text field in a
    format holding any text."""
    raw = (text or {}).get(RAW_IPTC_KEY)
    if carrier.holds_iptc and raw and (segment := iptc_segment(raw)):
        rest = {key: value for key, value in (text or {}).items() if key != RAW_IPTC_KEY}
        return rest or None, (*(segments or ()), segment)
    if carrier.text_keys is None and segments and (profile := iptc_profile(segments)):
        others = tuple(segment for segment in segments if not is_iptc_segment(segment))
        return {**(text or {}), RAW_IPTC_KEY: profile}, others or None
    return text, segments


def _carried_appended(loaded: LoadedImage, turned: LoadedImage, held: bool, *, strip: bool) -> Appended | None:
    """What followed a JPEG's picture where the output keeps it: a JPEG (``held``), not stripped, its picture not
    turned upright (further pictures keep the source's orientation); else ``None`` with a warning saying why."""
    if loaded.appended is None:
        return None
    if held and not strip and turned.pixels is loaded.pixels:
        return loaded.appended
    reason = (
        "strip leaves them out"
        if strip
        else "the output format has no place for them"
        if not held
        else "the picture is turned upright in the output, and they would not be"
    )
    log.warning("the JPEG's %s left out: %s", loaded.appended.describe(), reason)
    return None


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
    if dpi and pillow_format in DENSITY_IN_EXIF:
        exif = with_density(exif, dpi)
    iptc, text = _split_iptc(loaded.text or {}) if pillow_format == "TIFF" else (None, loaded.text or {})
    text = carried_text(text, FORMAT_TEXT_KEYS.get(pillow_format, frozenset())) or {}
    if pillow_format in ("JPEG", "WEBP", "AVIF"):
        options: dict[str, Any] = {
            "exif": for_pillow_writer(exif, pillow_format),
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
            chunks.add_text(key, value, zip=key == RAW_IPTC_KEY)  # tEXt (zTXt) where Latin-1 holds it, else iTXt
        options = {"exif": exif, "icc_profile": icc, "pnginfo": chunks, "dpi": dpi}
    elif pillow_format == "TIFF":  # Pillow's TIFF writer ignores ``exif`` beside ``tiffinfo``: XMP joins the tags
        tags = (exif_tags(exif) if exif else None) or Image.Exif()
        if xmp:
            tags[XMP_TAG] = xmp
        if iptc:
            tags[PHOTOSHOP_TAG] = iptc
            if records := irb_records(iptc):
                tags[IPTC_NAA_TAG] = records  # where readers that know no Photoshop resources look
        options = {"exif": tags, "icc_profile": icc, "dpi": dpi}
    else:
        if exif or icc or xmp:
            log.warning("%s files do not carry EXIF, ICC or XMP here; they are left out", pillow_format)
        return {}
    return {key: value for key, value in options.items() if value}


def _split_iptc(text: dict[str, str]) -> tuple[bytes | None, dict[str, str]]:
    """The IRB of ``text``'s raw IPTC profile, for formats keeping IPTC in a field of their own (TIFF, JP2), and
    the other fields (all of them when there is no readable profile)."""
    irb = iptc_irb(text[RAW_IPTC_KEY]) if RAW_IPTC_KEY in text else None
    return irb, {key: value for key, value in text.items() if key != RAW_IPTC_KEY} if irb else text


def encode_with_metadata(picture: Image.Image, loaded: LoadedImage, pillow_format: str) -> bytes:
    """``picture`` encoded as ``pillow_format`` with ``loaded``'s metadata (JP2's boxes written here)."""
    buffer = io.BytesIO()
    if pillow_format == "JPEG2000":  # Pillow writes no metadata into JP2
        picture.save(buffer, pillow_format)
        irb, text = _split_iptc(loaded.text or {})
        carried_text(text, frozenset())  # JP2 holds no text field: a warning names them
        records = irb_records(irb) if irb else None
        exif, icc, xmp, dpi = loaded.exif, loaded.icc, loaded.xmp, loaded.dpi
        return write_metadata(buffer.getvalue(), exif=exif, icc=icc, xmp=xmp, dpi=dpi, iptc=records)
    picture.save(buffer, pillow_format, **save_options(loaded, pillow_format))
    return buffer.getvalue()


def _matching_icc(icc: bytes | None, channels: int) -> bytes | None:
    """``icc`` unless its header names a colour space other than the stored one (gray or RGB)."""
    space = icc[16:20] if icc else b""
    if space in (b"GRAY", b"RGB ") and space != (b"GRAY" if channels == 1 else b"RGB "):
        log.warning("the %s ICC profile cannot describe the %s picture stored; it is left out",
                    space.decode().strip(), "gray" if channels == 1 else "RGB")  # fmt: skip
        return None
    return icc
