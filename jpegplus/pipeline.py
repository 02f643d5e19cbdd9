"""compress / decompress / enhance: the ComCNN → codec → reconstruction pipeline and the JPEG post-filter."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
from PIL import Image

from jpegplus import blind, inference, metrics, payload, transparency
from jpegplus.codecs import get_codec
from jpegplus.codecs.jpeg import consistency
from jpegplus.codecs.jpeg.quantization import condition_from_picture, condition_from_quality, is_standard
from jpegplus.codecs.pillow_codec import check_one_picture, check_side_limit, format_name, open_image
from jpegplus.codecs.registry import check_quality
from jpegplus.encoder import ModeEncoder
from jpegplus.errors import InvalidInputError, InvalidOptionError, MetadataError, WeightsError
from jpegplus.io import (
    EncodedSource,
    ImageSource,
    LoadedImage,
    from_picture,
    is_encoded,
    load_image,
    read_encoded,
    to_image,
    to_tensor,
)
from jpegplus.metadata import fit as fit_metadata
from jpegplus.modes import Mode, Tune, parse_mode, parse_tune
from jpegplus.options import (
    DEFAULT_MAX_PIXELS,
    check_flag,
    check_optional_int,
    check_passes,
    check_pixel_count,
    check_positive_int,
    check_psnr,
    parse_codec,
)
from jpegplus.ratecontrol import bisect_quality
from jpegplus.runtime import resolve_device
from jpegplus.weights import (
    WeightsSpec,
    get_spec,
    lighter,
    load_model,
    retired,
    select,
    select_enhance,
    select_enhance_artifacts,
)

log = logging.getLogger(__name__)


def compress(
    image: ImageSource,
    *,
    codec: str = "jpeg",
    quality: int = 75,
    mode: str = "auto",
    device: str | None = None,
    target_size: int | None = None,
    target_psnr: float | None = None,
    saliency: bool = False,
    background: transparency.Background | None = None,
    strip: bool = False,
    allow_half_size: bool = False,
    tune: str = "psnr",
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """Encode ``image`` as a standard ``codec`` file that jpegplus can decompress better.

    ``mode="auto"`` writes a full-size file (what a plain viewer shows keeps the image's dimensions).
    With ``allow_half_size=True`` it spends the bytes full mode spends at ``quality`` on whichever
    of the half-resolution and full-resolution paths reconstructs this image better: by PSNR below the
    codec's crossover rate it encodes and reconstructs both, above it full mode; ``tune="ms-ssim"``
    compares them by MS-SSIM (pytorch-msssim; PSNR below its 161-pixel side) at every rate. Full mode's JPEG
    uses flatter tables than libjpeg's on the same quality scale (smaller files at equal quality,
    :func:`jpegplus.codecs.jpeg.quantization.restoration_tables`).
    ``target_size`` (bytes) or ``target_psnr`` (dB after decompress) replace ``quality`` by a
    bisection search. ``saliency=True`` spends more bits where people look (for JPEG by
    per-block requantization inside one standard file, see :mod:`jpegplus.codecs.jpeg.regionquant`).
    Transparency is kept by WebP, AVIF and JPEG 2000; ``background`` (a colour name, ``"#rrggbb"``
    or an (r, g, b) tuple) flattens the image onto that colour first, which JPEG needs.
    ``strip=True`` leaves out EXIF (with GPS), XMP, IPTC, comments and text and keeps the ICC profile, for publishing
    (:mod:`jpegplus.metadata`; the orientation is baked into the pixels).
    ``max_pixels`` refuses larger inputs before they are decoded.

    >>> data = compress(np.zeros((16, 16, 3), np.uint8), codec="jpeg", quality=50)
    >>> data[:2] == b"\\xff\\xd8"
    True
    """
    codec_name = parse_codec(codec)
    quality = check_quality(quality)
    chosen = parse_mode(mode)
    target_size = check_optional_int(target_size, "target_size")
    target_psnr = check_psnr(target_psnr)
    saliency = check_flag(saliency, "saliency")
    if target_size is not None and target_psnr is not None:
        msg = "give target_size or target_psnr, not both"
        raise InvalidOptionError(msg)
    tuned = parse_tune(tune)
    if chosen is Mode.AUTO and not check_flag(allow_half_size, "allow_half_size"):
        chosen = Mode.FULL
    resolve_device(device)
    adapter = get_codec(codec_name.value)
    loaded = load_image(image, max_pixels=check_positive_int(max_pixels, "max_pixels"))
    height, width = loaded.pixels.shape[:2]
    if chosen is Mode.DOWNSAMPLE:  # the codec stores the half-resolution image, its size rounded up
        height, width = -(-height // 2), -(-width // 2)
    check_side_limit(adapter.pillow_format, width, height)
    loaded = fit_metadata(transparency.prepare(loaded, adapter, background), adapter, strip=check_flag(strip, "strip"))
    crossover_bpp = select(codec_name.value, Mode.FULL).crossover_bpp if tuned is Tune.PSNR else math.inf

    def encoder(for_mode: Mode) -> ModeEncoder:
        return ModeEncoder.prepare(loaded, adapter, for_mode, device, saliency=saliency)

    if target_size is not None:
        if chosen is Mode.AUTO and loaded.bits_per_pixel(target_size) < crossover_bpp:
            return _better_within_size(encoder, target_size, loaded, device, tuned)
        return _to_size(encoder(Mode.FULL if chosen is Mode.AUTO else chosen), target_size)
    if target_psnr is not None:
        modes = [Mode.DOWNSAMPLE, Mode.FULL] if chosen is Mode.AUTO else [chosen]
        return min((_to_psnr(encoder(m), target_psnr, device) for m in modes), key=len)
    if chosen is not Mode.AUTO:
        return encoder(chosen).encode(quality)
    full = encoder(Mode.FULL).encode(quality)
    if loaded.bits_per_pixel(len(full)) >= crossover_bpp:
        return full
    half = bisect_quality(encoder(Mode.DOWNSAMPLE).encode, lambda d: len(d) <= len(full), highest=True)
    return _better([full, half] if half else [full], loaded, device, tuned)


def _better_within_size(
    encoder: Callable[[Mode], ModeEncoder], target_size: int, loaded: LoadedImage, device: str | None, tune: Tune
) -> bytes:
    """Auto below the crossover rate: each path's largest file within ``target_size``, the better one kept."""
    fitting, failures = [], []
    for mode in (Mode.DOWNSAMPLE, Mode.FULL):
        try:
            fitting.append(_to_size(encoder(mode), target_size))
        except InvalidOptionError as error:
            failures.append(error)
    if not fitting:
        raise failures[0]
    return _better(fitting, loaded, device, tune)


def _better(candidates: list[bytes], loaded: LoadedImage, device: str | None, tune: Tune) -> bytes:
    """The candidate whose jpegplus reconstruction scores highest against the image in ``tune``'s metric (a lone
    candidate without reconstructing it)."""
    if len(candidates) == 1:
        return candidates[0]
    return max(candidates, key=lambda data: _score(data, loaded.pixels, device, tune))


def _score(data: bytes, reference: np.ndarray, device: str | None, tune: Tune) -> float:
    """``tune``'s metric of ``data``'s jpegplus reconstruction; PSNR where MS-SSIM is undefined (small images)."""
    restored = decompress_image(data, device=device).pixels
    score = metrics.ms_ssim(reference, restored) if tune is Tune.MS_SSIM else math.nan
    return metrics.psnr(reference, restored) if math.isnan(score) else score


def _psnr(data: bytes, reference: np.ndarray, device: str | None) -> float:
    """PSNR in dB of ``data``'s jpegplus reconstruction against ``reference``."""
    return metrics.psnr(reference, decompress_image(data, device=device).pixels)


def _to_size(encoder: ModeEncoder, target_size: int) -> bytes:
    found = bisect_quality(encoder.encode, lambda data: len(data) <= target_size, highest=True)
    if found is None:
        msg = f"cannot fit in {target_size} bytes even at quality 1 (that needs {len(encoder.encode(1))})"
        if (kept := encoder.loaded.appended) is not None:
            msg += f", {kept.size:,} of them the source's {kept.describe()}, which strip leaves out"
        raise InvalidOptionError(msg)
    metadata = payload.extract(found)
    assert metadata is not None  # the encoder wrote it
    quality, trellis = metadata.quality, None
    past = encoder.trellis_past_its_limit(quality, target_size)
    if past is not None:
        (quality, found), trellis = past, True
    if not encoder.region_quantized:
        return found
    return encoder.narrowest_dead_zone(quality, target_size, trellis=trellis) or found


def _to_psnr(encoder: ModeEncoder, target_psnr: float, device: str | None) -> bytes:
    found = bisect_quality(
        encoder.encode, lambda data: _psnr(data, encoder.loaded.pixels, device) >= target_psnr, highest=False
    )
    if found is None:
        msg = f"cannot reach {target_psnr} dB PSNR even at quality 100 in mode {encoder.mode.value}"
        raise InvalidOptionError(msg)
    return found


def decompress(
    data: EncodedSource, *, device: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS, passes: int = 1
) -> np.ndarray:
    """Decode a jpegplus file (bytes, a path or a binary file object) to the original size.

    Returns a C-contiguous uint8 (H, W, 3) RGB or (H, W) gray array, and (H, W, 4) RGBA or
    (H, W, 2) gray + alpha when the file carries transparency. ``passes`` (1, 2, 4 or 8) averages the
    network over that many flips and turns of the picture (:mod:`jpegplus.ensemble`): a little better, as
    many times the network's time.
    """
    return decompress_image(data, device=device, max_pixels=max_pixels, passes=passes).array


def decompress_image(
    data: EncodedSource, *, device: str | None = None, max_pixels: int = DEFAULT_MAX_PIXELS, passes: int = 1
) -> LoadedImage:
    """:func:`decompress` as colour and alpha planes, keeping the file's EXIF, ICC profile and XMP."""
    passes = check_passes(passes)
    limit = check_positive_int(max_pixels, "max_pixels")
    target = resolve_device(device)
    data = read_encoded(data)
    metadata = payload.extract(data)
    if metadata is None:
        msg = "not a jpegplus file (no jpegplus metadata); use 'enhance' for a plain JPEG"
        raise InvalidInputError(msg)
    check_pixel_count(metadata.width, metadata.height, limit, "the image the file's jpegplus metadata claims")
    adapter = get_codec(metadata.codec)
    picture = open_image(data, adapter.pillow_format, max_pixels=limit)
    mode = parse_mode(metadata.mode)
    width, height = _restored_size(picture.size, metadata, mode)
    check_pixel_count(width, height, limit, "the restored image")
    spec = _spec_for(metadata.model, mode, metadata.codec)
    condition = adapter.condition(picture, metadata.quality)
    decoded = from_picture(picture, data)
    gray = metadata.channels == 1
    if mode is Mode.FULL and metadata.quality > spec.highest_quality:
        # the plain decode, which measured better than the network above its highest_quality
        pixels = to_image(to_tensor(decoded.pixels), gray=gray)
    elif mode is Mode.DOWNSAMPLE:
        size = (height, width)
        stored = to_tensor(decoded.pixels)
        net = load_model(spec.name).reconstruct
        restored = inference.upsample_restore(net, stored, condition, size, target, passes=passes)
        pixels = to_image(restored, gray=gray)
    else:  # band by band, uint8 in and out: bounded memory at any size, the same pixels as one tiled pass
        net = load_model(lighter(spec, condition).name).reconstruct
        pixels = inference.restore_pixels(
            net, decoded.pixels, condition, target, gray=gray, tile=inference.TILE, passes=passes
        )
    alpha = None if decoded.alpha is None else transparency.resize_alpha(decoded.alpha, pixels.shape)
    return replace(decoded, pixels=pixels, alpha=alpha)


def _restored_size(stored: tuple[int, int], metadata: payload.Metadata, mode: Mode) -> tuple[int, int]:
    """The (width, height) decompress gives back: the original's; for a file whose picture was edited after jpegplus
    wrote it, what the picture shows, with a warning: turned a quarter (a lossless rotation), the original's size
    turned, else (cropped, resized) the picture's size, twice it in half-resolution mode."""
    if stored == metadata.stored_size:
        return metadata.width, metadata.height
    if stored == metadata.stored_size[::-1]:
        log.warning("the file's picture is turned a quarter from what jpegplus wrote (rotated since?): restored so")
        return metadata.height, metadata.width
    scale = 2 if mode is Mode.DOWNSAMPLE else 1
    log.warning(
        "the file's picture is %dx%d, not the %dx%d jpegplus wrote (cropped or resized since?): restored at %dx%d",
        *stored, *metadata.stored_size, stored[0] * scale, stored[1] * scale,
    )  # fmt: skip
    return stored[0] * scale, stored[1] * scale


def enhance(
    image: ImageSource,
    *,
    strength: int | None = None,
    device: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    passes: int = 1,
) -> np.ndarray:
    """Remove JPEG compression artifacts; returns a C-contiguous uint8 array of the input's size.

    ``image`` is a JPEG file (bytes, path or binary file object), whose quantization tables tell
    how hard it was compressed and whose coefficients bound the result's luma
    (:mod:`jpegplus.codecs.jpeg.consistency`); or pixels whose file is gone (a numpy array, a PIL image, a PNG
    saved from a decode), whose JPEG grid and quality are estimated from the pixels
    (:mod:`jpegplus.blind`; pixels without a JPEG trace are returned unchanged). ``strength`` (an
    equivalent libjpeg quality, 1–100) overrides both for images re-compressed or resized after JPEG.
    ``passes`` (1, 2, 4 or 8) averages the network over that many flips and turns, as :func:`decompress`.
    """
    return enhance_image(image, strength=strength, device=device, max_pixels=max_pixels, passes=passes).array


def enhance_image(
    image: ImageSource,
    *,
    strength: int | None = None,
    device: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    passes: int = 1,
) -> LoadedImage:
    """:func:`enhance` as colour and alpha planes, keeping the input's EXIF, ICC profile and XMP."""
    passes = check_passes(passes)
    override = None if strength is None else condition_from_quality(check_quality(strength, "strength"))
    limit = check_positive_int(max_pixels, "max_pixels")
    target = resolve_device(device)
    data = read_encoded(image) if is_encoded(image) else None
    picture = check_one_picture(open_image(data, max_pixels=limit)) if data is not None else None
    if data is not None and picture is not None and format_name(picture) == "JPEG":
        condition = override or _tables_condition(picture)
        cells = consistency.JpegCells.read(data)  # before decoding: libjpeg's buffers and the pixels never meet
        decoded = from_picture(picture, data)
        picture.close()  # the pixels live in ``decoded`` now; Pillow's copy would double them
        del picture
        if not decoded.pixels.flags.writeable:  # Pillow's read-only view: one copy now, none in the network pass
            decoded = replace(decoded, pixels=decoded.pixels.copy())

        def project(band: torch.Tensor, first_row: int) -> torch.Tensor:
            return consistency.project(band, cells, first_row=first_row)

        spec = _enhancer(cells, condition, gray=decoded.pixels.ndim == 2)
        restored = _restore_enhance(
            decoded.pixels, spec, condition, (0, 0), target, project, in_place=True, passes=passes
        )
        return replace(decoded, pixels=restored)
    decoded = from_picture(picture, data) if picture is not None else load_image(image, max_pixels=limit)
    estimate = blind.estimate(decoded.pixels)
    if override is not None:
        condition = override
    elif estimate.quality is not None:
        condition = condition_from_quality(estimate.quality)
    else:
        log.info("no JPEG trace in the pixels: returned unchanged (pass strength to filter anyway)")
        # a copy: never the caller's own array, nor Pillow's read-only view
        return replace(decoded, pixels=decoded.pixels.copy())
    spec = _enhancer(None, condition, gray=decoded.pixels.ndim == 2)
    restored = _restore_enhance(decoded.pixels, spec, condition, estimate.offset, target, passes=passes)
    return replace(decoded, pixels=restored)


def _enhancer(
    cells: consistency.JpegCells | None, condition: tuple[float, float], *, gray: bool = False
) -> WeightsSpec:
    """The network that enhances a JPEG (``cells`` of its file, ``None`` for pixels without one; ``gray`` pixels):
    enhance's own (trained on re-compressed, resized, jpegli and mozjpeg files) at every quality for files with
    subsampled chroma or gray and tables of their own (jpegli, mozjpeg, cameras); other gray pixels get the
    artifact pair enhance was measured with (:func:`select_enhance_artifacts`) at every quality; other files with
    subsampled chroma get enhance's own up to its slim stand-in's lowest quality (75) and the stand-in from there;
    colour without subsampled chroma (4:4:4 files, pixels without a file) gets enhance's own below the artifact
    pair's slim stand-in's lowest quality (30) and that stand-in from there. Measured
    (``weights/jpeg-enhance-light.md``, ``weights/jpeg-enhance.md``): from quality 30 up, enhance's own gains over
    its slim stand-in on subsampled files, most on double compressions on a shifted grid (+0.16 dB with the last at
    quality 30, +0.08 at 50) and none at 75; with enhance's networks, 4:4:4 files measured 0.05 dB worse at quality
    45 (lean) and 0.02–0.22 dB from 50 up (slim), blind pixels 0.04–0.05 dB at quality 40–45 (lean); gray libjpeg
    files and gray pixels without a file 0.01–0.14 dB better with the artifact models, gray mozjpeg files 0.1–0.9 dB
    better with enhance's own."""
    own = select_enhance()
    artifacts = select_enhance_artifacts()
    subsampled = cells is not None and len(cells.components) == 3 and cells.components[1].span != (1, 1)
    own_tables = cells is not None and not is_standard(cells.components[0].table.flatten().numpy())
    if own_tables and (subsampled or gray):
        return own
    if gray:
        return lighter(artifacts, condition)
    if subsampled:
        return lighter(own, condition)
    light = lighter(artifacts, condition)
    return own if light.lightens is None else light


def _restore_enhance(
    pixels: np.ndarray,
    spec: WeightsSpec,
    condition: tuple[float, float],
    offset: tuple[int, int],
    device: torch.device,
    finish: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
    *,
    in_place: bool = False,
    passes: int = 1,
) -> np.ndarray:
    """The enhance network on ``pixels`` whose 8×8 JPEG grid starts at ``offset`` (rows, columns), band by
    band (:func:`inference.restore_pixels`: bounded memory for any size); ``finish`` changes each band first;
    ``in_place`` overwrites ``pixels`` (only for pixels decoded here, never a caller's array); ``passes``
    as :func:`enhance` takes it."""
    model = load_model(spec.name)
    return inference.restore_pixels(
        model.reconstruct, pixels, condition, device, offset=offset, finish=finish, in_place=in_place, passes=passes
    )


def _tables_condition(picture: Image.Image) -> tuple[float, float]:
    """The condition read from a JPEG's quantization tables."""
    found = condition_from_picture(picture)
    if found is None:
        msg = "the JPEG has no quantization tables"
        raise InvalidInputError(msg)
    return found


def _spec_for(model_id: str, mode: Mode, codec: str) -> WeightsSpec:
    """The manifest entry of the model a file names: that very model where the manifest keeps it under its id
    (:func:`~jpegplus.weights.retired`), else the installed model of its name; foreign names, another codec's
    model (the JPEG models serve every codec without its own) and mismatched architectures are refused."""
    name, _, digest = model_id.partition("@")
    spec = retired(model_id)
    if spec is None:
        try:
            spec = get_spec(name)
        except WeightsError:
            msg = f"file names model {model_id!r}, which this jpegplus does not have"
            raise MetadataError(msg) from None
    if not spec.serves(codec, mode):
        msg = f"file names model {model_id!r}, which does not fit a {codec} file in mode {mode.value!r}"
        raise MetadataError(msg)
    if digest != spec.sha256[:8] and model_id not in _NOTED_MODELS:
        _NOTED_MODELS.add(model_id)
        log.info("files made with %s are decoded with the installed %s", model_id, spec.model_id)
    return spec


_NOTED_MODELS: set[str] = set()  # older models whose files were already noted in this process
