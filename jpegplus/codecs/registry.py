"""The codec interface and its registry."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypedDict, runtime_checkable

import numpy as np
from PIL import Image

from jpegplus.errors import InvalidOptionError

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11


class CodecName(str, enum.Enum):
    """The codecs jpegplus wraps."""

    JPEG = "jpeg"
    JPEG2000 = "jpeg2000"
    WEBP = "webp"
    AVIF = "avif"


class CarriedMetadata(TypedDict, total=False):
    """What travels into a file beside the pixels: EXIF, the ICC profile, XMP, the pixel density (dots per
    inch), text fields by key and a JPEG's other metadata segments (IPTC, extended XMP: whole segments, which only
    JPEG holds); each ``None`` or absent when the image has none."""

    exif: bytes | None
    icc: bytes | None
    xmp: bytes | None
    dpi: tuple[float, float] | None
    text: dict[str, str] | None
    segments: tuple[bytes, ...] | None


class Codec(Protocol):
    """A standard codec: ``encode(image, quality) -> bytes`` and ``decode(bytes) -> image``.

    Images are uint8 RGB (H, W, 3) or gray (H, W) arrays; ``quality`` is the codec's own 1–100 scale.
    The attributes say what the format carries (see :mod:`jpegplus.metadata` and :mod:`jpegplus.transparency`).
    What only some formats can do is a capability of their adapter (:class:`RestorationEncoder`,
    :class:`RegionQuantizer`), asked for with ``isinstance``, never by the codec's name.
    """

    name: str
    extension: str
    pillow_format: str
    carries_gray: bool
    carries_alpha: bool
    shows_exif_orientation: bool
    exif_limit: int | None
    xmp_limit: int | None
    text_keys: frozenset[str] | None  # the text fields the format holds (None: any)
    holds_jpeg_segments: bool  # whether a JPEG's IPTC and extended XMP segments and appended data travel whole (JPEG)
    holds_iptc: bool  # whether IPTC travels (JPEG's APP13 segment, JPEG 2000's IPTC box)
    enhanceable: bool  # plain files of the codec carry what :func:`jpegplus.enhance` restores them from

    def encode(
        self,
        image: np.ndarray,
        quality: int,
        *,
        alpha: np.ndarray | None = None,
        **metadata: Unpack[CarriedMetadata],
    ) -> bytes:
        """Encode ``image`` (with an optional alpha plane) at ``quality``; EXIF, ICC, XMP, the pixel density
        (dots per inch, where the format has a field for it) and the text fields of :attr:`text_keys` travel
        inside the file."""
        ...

    def decode(self, data: bytes) -> np.ndarray:
        """Decode a file of this codec to a uint8 image (colour only)."""
        ...

    def condition(self, picture: Image.Image, quality: int) -> tuple[float, float]:
        """The networks' condition for a file of this codec written at ``quality`` (``picture``: the opened file)."""
        ...

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Place the payload into an already encoded file."""
        ...

    def read_payload(self, data: bytes, picture: Image.Image | None = None) -> bytes | None:
        """The jpegplus payload inside a file of this codec, or ``None`` (``picture``: ``data`` opened, if it is)."""
        ...


@runtime_checkable
class RestorationEncoder(Protocol):
    """A codec that can write a file for jpegplus's network to restore rather than for a plain viewer,
    trading the viewer's perceptual weighting for fidelity per byte (JPEG: flatter quantization tables)."""

    def for_restoration(self, *, trellis: bool = False) -> Codec:
        """The same codec with the settings for restoration, on the same quality scale; ``trellis``: choose the
        coefficients by rate and distortion (JPEG: mozjpeg's trellis) instead of rounding them."""
        ...

    def restoration_condition(self, quality: int) -> tuple[float, float]:
        """The networks' condition of a file written for restoration at ``quality``."""
        ...


@runtime_checkable
class RegionQuantizer(Protocol):
    """A codec that spends bits by region inside one standard file (JPEG: per-block dead zones)."""

    @property
    def max_threshold(self) -> float:
        """The default coarseness of the least salient regions."""
        ...

    def encode_salient(
        self,
        image: np.ndarray,
        quality: int,
        saliency: np.ndarray,
        *,
        max_threshold: float | None = None,
        **metadata: Unpack[CarriedMetadata],
    ) -> bytes:
        """Encode at ``quality`` with the least salient regions coarsened up to ``max_threshold``
        (the codec's default when ``None``)."""
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


def check_quality(quality: int, name: str = "quality") -> int:
    """Validate a 1–100 codec quality (the keyword ``name`` gave it)."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        msg = f"{name} must be an integer from 1 to 100, got {quality!r}"
        raise InvalidOptionError(msg)
    return int(quality)
