"""The shared Pillow-backed adapter that the concrete codecs specialise, and Pillow images to arrays."""

from __future__ import annotations

import html
import io
import logging
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageCms, ImageFile

from jpegplus.codecs import heif
from jpegplus.codecs.exif import for_pillow_writer, usable_exif, with_density
from jpegplus.codecs.jpeg import ending
from jpegplus.codecs.jpeg.markers import sample_precision, smallest_scan_bytes
from jpegplus.codecs.jpeg.quantization import condition_from_quality
from jpegplus.errors import InvalidInputError
from jpegplus.options import check_pixel_count

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

    from jpegplus.codecs.registry import CarriedMetadata

log = logging.getLogger(__name__)
_PILLOW_LIMIT_LOCK = threading.Lock()

SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
GRAY_MODES = ("1", "L", "LA", "La", *SIXTEEN_BIT_MODES)
REDUCED_TO_8_BITS = "the image has more than 8 bits per sample; jpegplus works on 8 bits, so it was reduced to 8"
COMMENT = "Comment"  # the text key of a JPEG's or GIF's comment (PNG's own keyword for one)
MAX_SIDES = {"JPEG": 65500, "WEBP": 16383, "AVIF": 32768}
"""Longest side, in pixels, that libjpeg-turbo and libwebp write and that libavif reads back by default
(it writes larger files it then refuses to open); OpenJPEG's limit is far beyond any accepted image."""


class PillowCodec:
    """Encode/decode through Pillow; subclasses name the format and its save options."""

    name = ""
    extension = ""
    pillow_format = ""
    carries_gray = True  # False: the format stores gray as RGB, so it is widened first
    carries_alpha = True  # False (JPEG): a transparent image must be flattened onto a background first
    shows_exif_orientation = False  # True only where every viewer turns the picture by EXIF (JPEG)
    density_in_exif = False  # True (WebP, AVIF): the pixel density has no field but EXIF's
    exif_limit: int | None = None  # largest EXIF block the format holds, in bytes (None: no practical limit)
    xmp_limit: int | None = None  # the same for XMP
    text_keys: frozenset[str] | None = frozenset()  # the text fields the format holds (None: any)
    holds_jpeg_segments = False  # True (JPEG): a JPEG's IPTC and extended XMP segments and appended data travel whole
    holds_iptc = False  # True (JPEG, JPEG 2000): IPTC travels
    enhanceable = False  # see :class:`~jpegplus.codecs.Codec`

    def save_options(self, quality: int, mode: str) -> dict[str, Any]:
        """Format-specific keyword arguments of ``PIL.Image.save``; ``mode`` is the mode saved (L, LA, RGB, RGBA)."""
        raise NotImplementedError

    def encode(
        self,
        image: np.ndarray,
        quality: int,
        *,
        alpha: np.ndarray | None = None,
        **metadata: Unpack[CarriedMetadata],
    ) -> bytes:
        """Encode a uint8 RGB or gray array (with an optional alpha plane of its size); EXIF, ICC, XMP, the
        pixel density and the text fields the format holds (:attr:`text_keys`: a JPEG's comment) ride along.
        EXIF or XMP too large for the format is left out with a warning."""
        if alpha is not None and not self.carries_alpha:
            raise no_alpha_error(self.name)
        check_side_limit(self.pillow_format, image.shape[1], image.shape[0])
        if image.ndim == 2 and not self.carries_gray:
            image = np.repeat(image[:, :, None], 3, axis=2)
        planes = image if alpha is None else np.dstack([image, alpha])
        picture = Image.fromarray(np.ascontiguousarray(planes))
        exif = metadata.get("exif")
        exif = within_limit(usable_exif(exif) if exif else None, self.exif_limit, "EXIF")
        xmp = within_limit(metadata.get("xmp"), self.xmp_limit, "XMP")
        dpi, text = metadata.get("dpi"), metadata.get("text") or {}
        if dpi and self.density_in_exif:
            exif = with_density(exif, dpi)
        options = self.save_options(quality, picture.mode) | ({"dpi": dpi} if dpi else {})  # where Pillow writes it
        if COMMENT in text and (self.text_keys is None or COMMENT in self.text_keys):
            options["comment"] = text[COMMENT]
        return self.save(picture, options, exif=exif, icc=metadata.get("icc"), xmp=xmp)

    def save(
        self, picture: Image.Image, options: dict[str, Any], *, exif: bytes | None, icc: bytes | None, xmp: bytes | None
    ) -> bytes:
        """Encode ``picture`` with Pillow; the metadata goes where Pillow's writer of the format puts it."""
        metadata = {"exif": for_pillow_writer(exif, self.pillow_format), "icc_profile": icc, "xmp": xmp}
        extras = {key: value for key, value in metadata.items() if value}
        buffer = io.BytesIO()
        picture.save(buffer, self.pillow_format, **options, **extras)
        return buffer.getvalue()

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Place the payload into an encoded file, where the format lets readers skip it."""
        raise NotImplementedError

    def decode(self, data: bytes) -> np.ndarray:
        """Decode to uint8 RGB (H, W, 3) or gray (H, W); an alpha plane is left aside (see :func:`to_planes`)."""
        return to_planes(open_image(data, self.pillow_format))[0]

    def condition(self, picture: Image.Image, quality: int) -> tuple[float, float]:
        """The condition of libjpeg's standard tables at ``quality``: the networks' scale, for codecs without tables."""
        return condition_from_quality(quality)

    def find_payload(self, picture: Image.Image, data: bytes) -> bytes | None:
        """The payload where :meth:`attach` puts it, or ``None`` (``picture``: ``data`` as Pillow opened it)."""
        raise NotImplementedError

    def read_payload(self, data: bytes, picture: Image.Image | None = None) -> bytes | None:
        """The jpegplus payload: where :meth:`attach` puts it, else in an XMP packet (where older
        jpegplus versions put it in WebP and AVIF files), else ``None``. ``picture``: ``data`` already
        opened by Pillow (not loaded), which spares opening it again."""
        if picture is None:
            picture = open_image(data, self.pillow_format, load=False)  # a clear error for another format
        found = self.find_payload(picture, data)
        if found is not None:
            return found
        xmp = picture.info.get("xmp")
        return payload_from_xmp(xmp.encode() if isinstance(xmp, str) else xmp) if xmp else None


def no_alpha_error(codec: str) -> InvalidInputError:
    """The refusal of a transparent image by a codec without alpha, naming the way out."""
    msg = (
        f"the image has transparency, which {codec.upper()} cannot store: pass --background COLOR "
        "(API: background=), e.g. white, to flatten it, or use webp, avif or jpeg2000, which keep it"
    )
    return InvalidInputError(msg)


def check_side_limit(pillow_format: str, width: int, height: int) -> None:
    """Refuse an image too wide or tall for the format (:data:`MAX_SIDES`) before any work on it."""
    limit = MAX_SIDES.get(pillow_format)
    if limit is not None and max(width, height) > limit:
        msg = (
            f"the image to store is {width}x{height}, but {pillow_format} holds at most {limit} pixels a side: "
            "resize it or use another format (JPEG 2000 has no such limit)"
        )
        raise InvalidInputError(msg)


def within_limit(block: bytes | None, limit: int | None, kind: str) -> bytes | None:
    """``block`` if the format can hold it, else ``None`` with a warning (the pixels still travel)."""
    if block is None or limit is None or len(block) <= limit:
        return block
    log.warning("%s of %d bytes does not fit the format's %d-byte limit; it is left out", kind, len(block), limit)
    return None


def payload_from_xmp(xmp: bytes) -> bytes | None:
    """The (format 1, ASCII) payload of an XMP packet's ``jpegplus:data`` attribute, or ``None``."""
    found = re.search(rb'jpegplus:data="([^"]*)"', xmp)
    return html.unescape(found.group(1).decode("ascii", "replace")).encode("ascii", "replace") if found else None


def open_image(
    data: bytes, expected_format: str | None = None, *, load: bool = True, max_pixels: int | None = None
) -> Image.Image:
    """Open (and, unless ``load`` is false, decode) encoded bytes, turning every failure into one clear error.

    ``load=False`` reads only the headers: enough for the format, size and metadata. An image of
    more than ``max_pixels`` is refused from its header, before it is decoded. Pillow's warnings
    about damaged metadata are logged rather than printed.
    """
    if not data:
        msg = "empty input: no image data"
        raise InvalidInputError(msg)
    if heif.is_heif(data):
        heif.enable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with _pillow_limit_at_least(max_pixels):
                picture = Image.open(io.BytesIO(data))
            if max_pixels is not None:
                check_pixel_count(picture.width, picture.height, max_pixels, "the image")
            if load and format_name(picture) == "JPEG":
                check_jpeg_data(data, picture.width, picture.height)
            if load:
                _note_reduction(picture)
                picture.load()
                if picture.format == "HEIF":
                    heif.note_left_out(picture)
            _add_box_metadata(picture, data)
    except InvalidInputError:
        raise
    except Image.DecompressionBombError as error:
        msg = f"refused as a decompression bomb: {error}"
        raise InvalidInputError(msg) from None
    except Image.UnidentifiedImageError:
        precision = sample_precision(data)
        msg = (
            f"a JPEG of {precision} bits per sample: Pillow reads JPEGs of 8 bits only; save it with 8 bits"
            if precision not in (None, 8)
            else "not an image file, or one of a format Pillow cannot read"
        )
        raise InvalidInputError(msg) from None
    except Exception as error:  # Pillow's plugins raise anything from OSError to struct.error, libavif RuntimeError
        truncated_jpeg = data[:2] == b"\xff\xd8" and "truncated" in str(error)
        whole = ending.completed(data) if truncated_jpeg else None
        if whole is None:
            msg = (
                "the JPEG is truncated: its data stops inside the image (a partial copy or download?)"
                if truncated_jpeg
                else f"cannot decode image ({error or type(error).__name__})"
            )
            raise InvalidInputError(msg) from None
        log.warning("the JPEG lacks its end marker (EOI), but none of its data: it is read as if it had one")
        return open_image(whole, expected_format, load=load, max_pixels=max_pixels)
    for warning in caught:
        log.debug("Pillow: %s", warning.message)
    if expected_format is not None and format_name(picture) != expected_format:
        msg = f"expected a {expected_format} file, got {picture.format or 'unknown format'}"
        raise InvalidInputError(msg)
    return picture


def format_name(picture: Image.Image) -> str | None:
    """Pillow's name of ``picture``'s format, with a JPEG that indexes further pictures (Pillow's "MPO": phones'
    Ultra HDR photos, stereo cameras) a JPEG: every decoder reads its first picture as one."""
    return "JPEG" if picture.format == "MPO" else picture.format


@contextmanager
def _pillow_limit_at_least(max_pixels: int | None) -> Iterator[None]:
    """Pillow's decompression-bomb limit (which refuses images over twice ``Image.MAX_IMAGE_PIXELS`` when opened)
    lifted while a file is opened under a larger ``max_pixels``: jpegplus's own limit, checked from the header,
    decides. One lock: two threads swapping the global at once could leave the wrong value behind."""
    pillow = Image.MAX_IMAGE_PIXELS
    if max_pixels is None or pillow is None or max_pixels <= 2 * pillow:
        yield
        return
    with _PILLOW_LIMIT_LOCK:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, max_pixels
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def check_one_picture(picture: Image.Image) -> Image.Image:
    """``picture`` when its file holds one picture; an animation or a multi-page file is refused, since only its
    first frame would be written. A JPEG with further pictures (MPO) passes: its first picture is the photo, and the
    others travel into JPEG outputs (:mod:`jpegplus.codecs.jpeg.appended`)."""
    frames = getattr(picture, "n_frames", 1)
    if frames > 1 and format_name(picture) != "JPEG":
        msg = (
            f"a {picture.format} file of {frames} frames (an animation or pages): jpegplus takes one still picture "
            "and would keep only the first; save the frame you want as a file of its own"
        )
        raise InvalidInputError(msg)
    return picture


def check_jpeg_data(data: bytes, width: int, height: int) -> None:
    """Refuse a JPEG too small to code the size its header claims, before libjpeg allocates and fills it."""
    needed = smallest_scan_bytes(data, width, height)
    if len(data) < needed:
        msg = (
            f"the JPEG's header claims {width}x{height} pixels, which take at least {needed:,} bytes "
            f"to code, but the file has {len(data):,}: a damaged or forged header"
        )
        raise InvalidInputError(msg)


def _note_reduction(picture: ImageFile.ImageFile) -> None:
    """Warn when Pillow itself will reduce 16-bit colour samples to 8 bits on load (16-bit RGB PNG, TIFF)."""
    raw_modes = [tile.args[0] if isinstance(tile.args, tuple) else tile.args for tile in picture.tile]
    if picture.mode not in SIXTEEN_BIT_MODES and any(isinstance(raw, str) and ";16" in raw for raw in raw_modes):
        log.warning(REDUCED_TO_8_BITS)


def _add_box_metadata(picture: Image.Image, data: bytes) -> None:
    """Fill ``picture.info`` with the ICC, EXIF and XMP of formats whose Pillow reader skips them (JP2)."""
    if picture.format == "JPEG2000":
        from jpegplus.codecs.jp2meta import read_metadata

        for key, value in read_metadata(data).items():
            picture.info.setdefault(key, value)


def to_display_colours(picture: Image.Image) -> tuple[Image.Image, bytes | None]:
    """``picture`` in RGB, gray or their alpha forms, and the ICC profile that still describes it.

    CMYK (Adobe's inverted JPEGs included: Pillow undoes the inversion) and Lab images are converted
    to sRGB through their embedded profile, which is then dropped; without a profile, by Pillow's
    plain formula, with a warning.
    """
    icc = picture.info.get("icc_profile") or None
    if picture.mode not in ("CMYK", "LAB"):
        return picture, icc
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else None
    if picture.mode == "LAB":
        source = source or ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    if source is not None:
        try:
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = ImageCms.profileToProfile(picture, source, srgb, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError) as error:
            log.warning("cannot apply the %s image's ICC profile (%s); converting without it", picture.mode, error)
        else:
            assert converted is not None  # profileToProfile returns the image unless inPlace
            return converted, None
    else:
        log.warning("a CMYK image without ICC profile is converted to RGB by a plain formula; colours may shift")
    return picture.convert("RGB"), None


def to_planes(picture: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """A loaded Pillow image as uint8 colour (RGB, or gray for gray modes) and alpha planes.

    Palettes are expanded and transparency keys (tRNS, a 16-bit gray one too) become alpha. The alpha plane is ``None``
    when the image is opaque (no alpha, or alpha 255 everywhere). 16-bit gray is reduced to 8 bits
    (rounded) with a warning (Pillow's mode ``I`` only from a 16-bit PGM, which it scales so); 32-bit
    floating point and integer are refused.
    """
    if picture.mode == "F":
        msg = "32-bit floating-point images are not supported; save the image with 8 or 16 bits per sample"
        raise InvalidInputError(msg)
    if picture.mode == "I" and picture.format != "PPM":  # Pillow reads 16-bit PGM as "I", scaled to 0-65535
        msg = (
            "32-bit integer images have no defined white level, so jpegplus cannot tell how to scale them; "
            "save the image with 8 or 16 bits per sample"
        )
        raise InvalidInputError(msg)
    gray = picture.mode in GRAY_MODES
    if picture.mode in SIXTEEN_BIT_MODES:
        log.warning(REDUCED_TO_8_BITS)
        values = np.asarray(picture)
        key = picture.info.get("transparency")  # a 16-bit gray PNG's tRNS: the one transparent value
        alpha = None
        if isinstance(key, int) and (transparent := values == key).any():
            alpha = np.where(transparent, 0, 255).astype(np.uint8)
        return (values.astype(np.float64) / 257.0).round().clip(0, 255).astype(np.uint8), alpha
    if picture.has_transparency_data:
        planes = np.asarray(picture.convert("LA" if gray else "RGBA"))
        colour, alpha = (planes[:, :, 0] if gray else planes[:, :, :3]), planes[:, :, -1]
        return np.ascontiguousarray(colour), (np.ascontiguousarray(alpha) if alpha.min() < 255 else None)
    if picture.mode in ("L", "RGB"):
        return np.asarray(picture), None
    return np.asarray(picture.convert("L" if gray else "RGB")), None
