"""The codec interface and its registry."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol

import numpy as np

from jpegplus.errors import InvalidOptionError


class CodecName(str, enum.Enum):
    """The codecs jpegplus wraps."""

    JPEG = "jpeg"
    JPEG2000 = "jpeg2000"
    WEBP = "webp"
    AVIF = "avif"


class Codec(Protocol):
    """A standard codec: ``encode(image, quality) -> bytes`` and ``decode(bytes) -> image``.

    Images are uint8 RGB (H, W, 3) or gray (H, W) arrays; ``quality`` is the codec's own 1–100 scale.
    The attributes say what the format carries (see :mod:`jpegplus.metadata` and :mod:`jpegplus.transparency`).
    """

    name: str
    extension: str
    pillow_format: str
    carries_gray: bool
    carries_alpha: bool
    shows_exif_orientation: bool
    exif_limit: int | None
    xmp_limit: int | None

    def encode(
        self,
        image: np.ndarray,
        quality: int,
        *,
        alpha: np.ndarray | None = None,
        exif: bytes | None = None,
        icc: bytes | None = None,
        xmp: bytes | None = None,
        payload: bytes | None = None,
        restoration: bool = False,
    ) -> bytes:
        """Encode ``image`` (with an optional alpha plane) at ``quality``; EXIF, ICC, XMP and the
        jpegplus payload travel inside the file.

        ``restoration=True``: the file is for jpegplus's network to restore, so a codec may trade
        what suits a plain viewer for fidelity per byte (JPEG: flatter quantization tables).
        """
        ...

    def decode(self, data: bytes) -> np.ndarray:
        """Decode a file of this codec to a uint8 image (colour only)."""
        ...

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Place the payload into an already encoded file."""
        ...

    def read_payload(self, data: bytes) -> bytes | None:
        """The jpegplus payload inside a file of this codec, or ``None``."""
        ...


_REGISTRY: dict[str, Codec] = {}


def register_codec(name: CodecName) -> Callable[[type], type]:
    """Class decorator: instantiate the adapter and register it under ``name`` (duplicates raise)."""

    def wrap(cls: type) -> type:
        if name.value in _REGISTRY:
            msg = f"codec {name.value!r} is already registered"
            raise RuntimeError(msg)
        instance = cls()
        instance.name = name.value
        _REGISTRY[name.value] = instance
        return cls

    return wrap


def list_codecs() -> list[str]:
    """Names of the registered codecs."""
    return sorted(_REGISTRY)


def get_codec(name: str) -> Codec:
    """The codec registered as ``name``; an unknown name raises with the known ones listed."""
    key = name.value if isinstance(name, CodecName) else str(name).lower()
    if key not in _REGISTRY:
        msg = f"unknown codec {name!r}; known codecs: {', '.join(list_codecs())}"
        raise InvalidOptionError(msg)
    return _REGISTRY[key]


def check_quality(quality: int) -> int:
    """Validate a 1–100 codec quality."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        msg = f"quality must be an integer from 1 to 100, got {quality!r}"
        raise InvalidOptionError(msg)
    return int(quality)
