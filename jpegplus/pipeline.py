"""compress / decompress / enhance: the ComCNN → codec → RecCNN pipeline and the JPEG post-filter."""

from __future__ import annotations

import enum
import logging

import numpy as np
from PIL import Image

from jpegplus import container, inference
from jpegplus.codecs import CodecName, get_codec
from jpegplus.codecs.pillow_codec import open_image, to_array
from jpegplus.codecs.registry import check_quality
from jpegplus.errors import InvalidInputError, InvalidOptionError, MetadataError, WeightsError
from jpegplus.io import ImageSource, LoadedImage, load_image, to_image, to_tensor
from jpegplus.quantization import condition_from_quality, condition_from_tables
from jpegplus.runtime import resolve_device
from jpegplus.weights import LoadedModel, get_spec, load_model, read_manifest

log = logging.getLogger(__name__)


class Mode(str, enum.Enum):
    """How compress uses the codec."""

    DOWNSAMPLE = "downsample"  # ComCNN half-resolution compact image; RecCNN upsamples and repairs
    FULL = "full"  # the codec holds the full-resolution image; RecCNN repairs it


MODEL_KIND = {Mode.DOWNSAMPLE: "downsample", Mode.FULL: "artifacts"}
ARCHITECTURE = {Mode.DOWNSAMPLE: "ComCNN+RecCNN", Mode.FULL: "RecCNN"}


def parse_mode(mode: str | Mode) -> Mode:
    """Validate a mode name."""
    try:
        return Mode(mode)
    except ValueError:
        msg = f"unknown mode {mode!r}; known modes: {', '.join(m.value for m in Mode)}"
        raise InvalidOptionError(msg) from None


def model_name(codec: str, mode: Mode) -> str:
    """The weights for ``codec`` in ``mode``: the codec's own, else the JPEG model."""
    own = f"{codec}-{MODEL_KIND[mode]}"
    return own if own in read_manifest() else f"{CodecName.JPEG.value}-{MODEL_KIND[mode]}"


def compress(
    image: ImageSource,
    *,
    codec: str = "jpeg",
    quality: int = 75,
    mode: str = "downsample",
    device: str | None = None,
) -> bytes:
    """Encode ``image`` as a standard ``codec`` file that jpegplus can decompress better.

    >>> data = compress(np.zeros((16, 16, 3), np.uint8), codec="jpeg", quality=50)
    >>> data[:2] == b"\\xff\\xd8"
    True
    """
    loaded = load_image(image)
    adapter = get_codec(codec)
    quality = check_quality(quality)
    chosen = parse_mode(mode)
    model = load_model(model_name(adapter.name, chosen))
    pixels = loaded.pixels
    gray = pixels.ndim == 2
    if chosen is Mode.DOWNSAMPLE:
        assert model.compact is not None  # guaranteed by the ComCNN+RecCNN architecture check
        compact = inference.make_compact(model.compact, to_tensor(pixels), resolve_device(device))
        pixels = to_image(compact, gray=gray)
    metadata = container.Metadata(
        width=loaded.pixels.shape[1],
        height=loaded.pixels.shape[0],
        channels=1 if gray else 3,
        mode=chosen.value,
        codec=adapter.name,
        quality=quality,
        model=model.spec.model_id,
    )
    return adapter.encode(pixels, quality, exif=loaded.exif, icc=loaded.icc, payload=container.serialise(metadata))


def decompress(data: bytes, *, device: str | None = None) -> np.ndarray:
    """Decode a jpegplus file to the original size: uint8 (H, W, 3) RGB or (H, W) gray."""
    return decompress_image(data, device=device).pixels


def decompress_image(data: bytes, *, device: str | None = None) -> LoadedImage:
    """:func:`decompress`, keeping the file's EXIF and ICC profile."""
    metadata = container.extract(data)
    if metadata is None:
        msg = "not a jpegplus file (no jpegplus metadata); use 'enhance' for a plain JPEG"
        raise InvalidInputError(msg)
    adapter = get_codec(metadata.codec)
    picture = open_image(data, adapter.pillow_format)
    if picture.size != metadata.stored_size:
        msg = f"jpegplus metadata does not match the file: stored image {picture.size}, expected {metadata.stored_size}"
        raise MetadataError(msg)
    mode = parse_mode(metadata.mode)
    model = _model_for(metadata.model, mode)
    condition = _condition(picture, metadata.quality)
    stored = to_tensor(to_array(picture))
    target = resolve_device(device)
    if mode is Mode.DOWNSAMPLE:
        size = (metadata.height, metadata.width)
        restored = inference.upsample_restore(model.reconstruct, stored, condition, size, target)
    else:
        restored = inference.restore(model.reconstruct, stored, condition, target)
    pixels = to_image(restored, gray=metadata.channels == 1)
    return LoadedImage(pixels, picture.info.get("exif") or None, picture.info.get("icc_profile") or None)


def enhance(data: bytes, *, strength: int | None = None, device: str | None = None) -> np.ndarray:
    """Decode an ordinary JPEG and remove its compression artifacts.

    The strength comes from the file's quantization tables; ``strength`` (an equivalent
    libjpeg quality, 1–100) overrides it for images re-compressed or resized after JPEG.
    """
    return enhance_image(data, strength=strength, device=device).pixels


def enhance_image(data: bytes, *, strength: int | None = None, device: str | None = None) -> LoadedImage:
    """:func:`enhance`, keeping the file's EXIF and ICC profile."""
    picture = open_image(data, "JPEG")
    if strength is not None:
        condition = condition_from_quality(check_quality(strength))
    else:
        condition = _condition(picture, None)
    decoded = load_image(picture)
    model = load_model(f"{CodecName.JPEG.value}-{MODEL_KIND[Mode.FULL]}")
    restored = inference.restore(model.reconstruct, to_tensor(decoded.pixels), condition, resolve_device(device))
    return LoadedImage(to_image(restored, gray=decoded.pixels.ndim == 2), decoded.exif, decoded.icc)


def _condition(picture: Image.Image, quality: int | None) -> tuple[float, float]:
    """From the JPEG quantization tables when the file has them, else from the codec quality."""
    tables = getattr(picture, "quantization", None)
    if tables:
        return condition_from_tables(tables[0], tables.get(1))
    if quality is None:
        msg = "the JPEG has no quantization tables"
        raise InvalidInputError(msg)
    return condition_from_quality(quality)


def _model_for(model_id: str, mode: Mode) -> LoadedModel:
    """The installed model a file names, refusing foreign names and mismatched architectures."""
    name, _, digest = model_id.partition("@")
    try:
        spec = get_spec(name)
    except WeightsError:
        msg = f"file names model {model_id!r}, which this jpegplus does not have"
        raise MetadataError(msg) from None
    if spec.architecture != ARCHITECTURE[mode]:
        msg = f"file names model {model_id!r}, which does not fit mode {mode.value!r}"
        raise MetadataError(msg)
    if digest != spec.sha256[:8]:
        log.warning("file was made with %s; decoding with the installed %s", model_id, spec.model_id)
    return load_model(name)
