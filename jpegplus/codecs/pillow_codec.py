"""The shared Pillow-backed adapter that the concrete codecs specialise."""

from __future__ import annotations

import html
import io
import re
import warnings
from typing import Any

import numpy as np
from PIL import Image

from jpegplus.errors import InvalidInputError
from jpegplus.options import check_pixel_count


class PillowCodec:
    """Encode/decode through Pillow; subclasses name the format and its save options."""

    name = ""
    extension = ""
    pillow_format = ""
    carries_gray = True  # False: the format stores gray as RGB, so it is widened first

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        """Format-specific keyword arguments of ``PIL.Image.save`` (``restoration``: see ``encode``)."""
        raise NotImplementedError

    def encode(
        self,
        image: np.ndarray,
        quality: int,
        *,
        exif: bytes | None = None,
        icc: bytes | None = None,
        payload: bytes | None = None,
        restoration: bool = False,
    ) -> bytes:
        """Encode a uint8 RGB or gray array; EXIF, ICC and the jpegplus payload ride along.

        ``restoration=True`` marks a file that jpegplus's network will restore (see ``Codec.encode``).
        """
        if image.ndim == 2 and not self.carries_gray:
            image = np.repeat(image[:, :, None], 3, axis=2)
        picture = Image.fromarray(np.ascontiguousarray(image))
        options = {key: value for key, value in {"exif": exif, "icc_profile": icc}.items() if value}
        buffer = io.BytesIO()
        picture.save(buffer, self.pillow_format, **self.save_options(quality, picture.mode, restoration), **options)
        data = buffer.getvalue()
        return self.attach(data, payload) if payload else data

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Place the payload into an encoded file, where the format lets readers skip it."""
        raise NotImplementedError

    def decode(self, data: bytes) -> np.ndarray:
        """Decode to uint8 RGB (H, W, 3) or gray (H, W)."""
        return to_array(open_image(data, self.pillow_format))

    def find_payload(self, data: bytes) -> bytes | None:
        """The payload where :meth:`attach` puts it, or ``None``."""
        raise NotImplementedError

    def read_payload(self, data: bytes) -> bytes | None:
        """The jpegplus payload: where :meth:`attach` puts it, else in an XMP packet (where older
        jpegplus versions put it in WebP and AVIF files), else ``None``."""
        picture = open_image(data, self.pillow_format, load=False)  # a clear error for a file of another format
        found = self.find_payload(data)
        if found is not None:
            return found
        xmp = picture.info.get("xmp")
        return payload_from_xmp(xmp.encode() if isinstance(xmp, str) else xmp) if xmp else None


def payload_from_xmp(xmp: bytes) -> bytes | None:
    """The (format 1, ASCII) payload of an XMP packet's ``jpegplus:data`` attribute, or ``None``."""
    found = re.search(rb'jpegplus:data="([^"]*)"', xmp)
    return html.unescape(found.group(1).decode("ascii", "replace")).encode("ascii", "replace") if found else None


def open_image(
    data: bytes, expected_format: str | None = None, *, load: bool = True, max_pixels: int | None = None
) -> Image.Image:
    """Open (and, unless ``load`` is false, decode) encoded bytes, turning every failure into one clear error.

    ``load=False`` reads only the headers: enough for the format, size and metadata. An image of
    more than ``max_pixels`` is refused from its header, before it is decoded.
    """
    if not data:
        msg = "empty input: no image data"
        raise InvalidInputError(msg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # jpegplus's own limit applies
            picture = Image.open(io.BytesIO(data))
        if max_pixels is not None:
            check_pixel_count(picture.width, picture.height, max_pixels, "the image")
        if load:
            picture.load()
    except Image.DecompressionBombError as error:
        msg = f"refused as a decompression bomb: {error}"
        raise InvalidInputError(msg) from None
    except Image.UnidentifiedImageError:
        msg = "not an image file, or one of a format Pillow cannot read"
        raise InvalidInputError(msg) from None
    except (OSError, SyntaxError, ValueError) as error:
        msg = f"cannot decode image ({error})"
        raise InvalidInputError(msg) from None
    if expected_format is not None and picture.format != expected_format:
        msg = f"expected a {expected_format} file, got {picture.format or 'unknown format'}"
        raise InvalidInputError(msg)
    return picture


def to_array(picture: Image.Image) -> np.ndarray:
    """A loaded Pillow image as uint8 RGB or gray array (alpha is dropped, palettes expanded)."""
    if picture.mode in ("L", "RGB"):
        return np.asarray(picture)
    if picture.mode in ("I;16", "I;16B", "I;16L", "I"):
        return (np.asarray(picture, dtype=np.float64) / 257.0).round().clip(0, 255).astype(np.uint8)
    if picture.mode in ("LA", "1"):
        return np.asarray(picture.convert("L"))
    return np.asarray(picture.convert("RGB"))
