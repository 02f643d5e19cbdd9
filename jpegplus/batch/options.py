"""What a batch does to one file: the operation, its options, and the one place that calls the library."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError
from jpegplus.options import DEFAULT_MAX_PIXELS, PICTURE_JPEG_QUALITY, check_passes

if TYPE_CHECKING:
    from jpegplus.io import LoadedImage


class Operation(str, enum.Enum):
    """The three file-to-file commands a batch runs."""

    COMPRESS = "compress"
    DECOMPRESS = "decompress"
    ENHANCE = "enhance"


class PictureFormat(str, enum.Enum):
    """What decompress and enhance write: lossless pictures, or a JPEG at ``picture_quality``."""

    PNG = "png"
    TIFF = "tiff"
    JPEG = "jpeg"


# Pillow's format name of each picture format (its extensions come from Pillow's registry).
PILLOW_FORMAT = {PictureFormat.PNG: "PNG", PictureFormat.TIFF: "TIFF", PictureFormat.JPEG: "JPEG"}
JPEG_START = b"\xff\xd8\xff"  # SOI and the first marker: a JPEG file
log = logging.getLogger(__name__)
DEFAULT_SUFFIX = {PictureFormat.PNG: ".png", PictureFormat.TIFF: ".tif", PictureFormat.JPEG: ".jpg"}

# The Pillow formats enhance takes from a folder (the others are counted and left alone): JPEG
# files, read with their quantization tables, and other images, whose JPEG past enhance's blind
# mode estimates from the pixels (:mod:`jpegplus.blind`); None: every format Pillow reads.
ENHANCE_FORMATS: frozenset[str] | None = None


@dataclass(frozen=True)
class Options:
    """Every option of a batch, passed whole to each worker (it pickles for processes and Ray actors)."""

    operation: Operation
    codec: CodecName = CodecName.JPEG
    quality: int = 75
    mode: str = "auto"
    target_size: int | None = None
    target_psnr: float | None = None
    saliency: bool = False
    strength: int | None = None
    passes: int = 1  # decompress and enhance: network passes over flips and turns (jpegplus.ensemble)
    picture_format: PictureFormat = PictureFormat.PNG
    picture_quality: int = PICTURE_JPEG_QUALITY
    allow_half_size: bool = False
    tune: str = "psnr"
    background: str | None = None  # colour that transparency is flattened onto (codecs without alpha)
    strip: bool = False  # leave out EXIF and XMP (the ICC profile stays)
    max_pixels: int = DEFAULT_MAX_PIXELS
    device: str | None = None

    def __post_init__(self) -> None:
        if self.target_size is not None and self.target_psnr is not None:  # refused before any file is read
            msg = "give --target-size or --target-psnr, not both"
            raise InvalidOptionError(msg)
        check_passes(self.passes)


@dataclass(frozen=True)
class Product:
    """One file's result: the bytes to write and the facts the manifest records."""

    data: bytes
    pixels: int  # of the full-size picture
    mode: str  # the jpegplus mode of the compressed file (auto resolved); "enhance", or "blind" for non-JPEGs


def transform(data: bytes, options: Options) -> Product:
    """Run the library on one input file's bytes."""
    from jpegplus import payload, pipeline

    operation = options.operation
    if operation is Operation.COMPRESS:
        packed = pipeline.compress(
            data,
            codec=options.codec.value,
            quality=options.quality,
            mode=options.mode,
            device=options.device,
            target_size=options.target_size,
            target_psnr=options.target_psnr,
            saliency=options.saliency,
            allow_half_size=options.allow_half_size,
            tune=options.tune,
            background=options.background,
            strip=options.strip,
            max_pixels=options.max_pixels,
        )
        facts = payload.extract(packed)
        assert facts is not None  # compress always writes its metadata
        if facts.mode == "downsample":
            shown = "x".join(map(str, facts.stored_size))
            log.warning(
                "written at half size: plain viewers show %s, jpegplus decompress restores %dx%d",
                shown,
                facts.width,
                facts.height,
            )
        return Product(packed, facts.width * facts.height, facts.mode)
    if operation is Operation.DECOMPRESS:
        restored = pipeline.decompress_image(
            data, device=options.device, max_pixels=options.max_pixels, passes=options.passes
        )
        stored = payload.extract(data)
        return Product(encode_picture(restored, options), _pixels(restored), stored.mode if stored else "")
    enhanced = pipeline.enhance_image(
        data, strength=options.strength, device=options.device, max_pixels=options.max_pixels, passes=options.passes
    )
    return Product(
        encode_picture(enhanced, options), _pixels(enhanced), "enhance" if data[:3] == JPEG_START else "blind"
    )


def _pixels(picture: LoadedImage) -> int:
    return int(picture.pixels.shape[0] * picture.pixels.shape[1])


def encode_picture(picture: LoadedImage, options: Options) -> bytes:
    """Encode a decoded picture in the chosen picture format (:func:`jpegplus.io.encode_picture`)."""
    from jpegplus import io

    return io.encode_picture(picture, DEFAULT_SUFFIX[options.picture_format], quality=options.picture_quality)
