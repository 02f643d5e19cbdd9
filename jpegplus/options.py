"""Validation of the API's keyword arguments: a bad value raises :class:`InvalidOptionError` naming it.

Every public entry point checks its keywords here before any work, so a wrong type or value never
escapes as a ``TypeError`` or ``ValueError`` from deep inside.
"""

from __future__ import annotations

import numbers

from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidInputError, InvalidOptionError

DEFAULT_MAX_PIXELS = 100_000_000
"""Largest image (stored or claimed by a file's metadata) processed unless the caller allows more."""
PICTURE_JPEG_QUALITY = 95  # decompress and enhance outputs written as JPEG: little added loss
PASSES = (1, 2, 4, 8)  # network passes over flips and turns (:mod:`jpegplus.ensemble`) decompress and enhance take


def parse_codec(codec: object) -> CodecName:
    """A codec name in any letter case (``"JPEG"``, ``CodecName.JPEG``) → :class:`CodecName`."""
    value = codec.value if isinstance(codec, CodecName) else codec
    if isinstance(value, str):
        try:
            return CodecName(value.lower())
        except ValueError:
            pass
    msg = f"unknown codec {codec!r}; known codecs: {', '.join(c.value for c in CodecName)}"
    raise InvalidOptionError(msg)


def check_positive_int(value: object, name: str) -> int:
    """A whole number ≥ 1 (``target_size`` in bytes, ``max_pixels``); not a bool, float or string."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        msg = f"{name} must be a whole number of at least 1, got {value!r}"
        raise InvalidOptionError(msg)
    return int(value)


def check_optional_int(value: object, name: str) -> int | None:
    """``None`` or :func:`check_positive_int`."""
    return None if value is None else check_positive_int(value, name)


def check_psnr(value: object) -> float | None:
    """``None`` or a PSNR target in dB, 10–80."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 10 <= float(value) <= 80:
        msg = f"target_psnr must be a number of dB from 10 to 80, got {value!r}"
        raise InvalidOptionError(msg)
    return float(value)


def check_passes(value: object) -> int:
    """``passes``: one of :data:`PASSES`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) not in PASSES:
        msg = f"passes must be one of {', '.join(map(str, PASSES))}, got {value!r}"
        raise InvalidOptionError(msg)
    return int(value)


def check_flag(value: object, name: str) -> bool:
    """A real ``bool`` (``saliency="no"`` would otherwise be true)."""
    if not isinstance(value, bool):
        msg = f"{name} must be True or False, got {value!r}"
        raise InvalidOptionError(msg)
    return value


def check_pixel_count(width: int, height: int, max_pixels: int, what: str) -> None:
    """Refuse an image of ``width`` × ``height`` over ``max_pixels`` before anything is allocated for it."""
    if width * height > max_pixels:
        msg = (
            f"{what} is {width}x{height} = {width * height:,} pixels, over the limit of {max_pixels:,} "
            "(raise it with max_pixels / --max-pixels)"
        )
        raise InvalidInputError(msg)
