"""Running the networks on whole images in overlapping tiles, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from jpegplus.ensemble import ensembled
from jpegplus.io import to_image, to_tensor
from jpegplus.models import ComCNN, upsample2x
from jpegplus.runtime import runnable

# input pixels per tile side (even). A reconstruction tile of 2048 spends 13% on its overlap instead of
# 27% at 1024: 12% less CPU for a 24 MP decompress, the same peak memory (its activations are at half
# resolution). The ComCNN keeps 1024: its first layer has 64 full-resolution channels.
TILE = 2048
COMPACT_TILE = 1024
BAND_TILE = 1024  # restore_pixels: its network and float buffers stay near 0.5 GB at any width (2048: 1.5 GB)
OVERLAP = 64  # context on each side: past the RecCNN's 82-pixel field, a multiple of RestoreNet's 16-pixel grid

BLOCK = 8  # the JPEG grid
TileFn = Callable[[torch.Tensor], torch.Tensor]

# Called as (tiles done, tiles in the pass) after each tile, when set (the command line's progress bar).
tile_progress: ContextVar[Callable[[int, int], None] | None] = ContextVar("tile_progress", default=None)


def run_tiled(
    fn: TileFn, image: torch.Tensor, *, scale: float, tile: int = TILE, overlap: int = OVERLAP
) -> torch.Tensor:
    """Apply ``fn`` (input size × ``scale`` = output size) tile by tile and stitch the centres.

    ``image`` is (1, C, H, W) with H and W even; tiles and overlaps are even so that
    pixel-unshuffle and stride-2 layers stay on the same grid as a whole-image pass.
    """
    _, _, height, width = image.shape
    stitched: list[torch.Tensor] = []

    def rows(y0: int, y1: int) -> torch.Tensor:
        return image[:, :, y0:y1]

    def sink(top: int, band: torch.Tensor) -> None:
        if not stitched:
            stitched.append(image.new_zeros(1, band.shape[1], round(height * scale), round(width * scale)))
        stitched[0][:, :, round(top * scale) : round(top * scale) + band.shape[2]] = band

    run_banded(fn, rows, height, width, sink, scale=scale, tile=tile, overlap=overlap)
    return stitched[0]


def run_banded(
    fn: TileFn,
    rows: Callable[[int, int], torch.Tensor],
    height: int,
    width: int,
    sink: Callable[[int, torch.Tensor], None],
    *,
    scale: float,
    tile: int = TILE,
    overlap: int = OVERLAP,
) -> None:
    """:func:`run_tiled` one band of tile rows at a time, for images too large to hold as float tensors.

    ``rows(y0, y1)`` gives input rows ``y0:y1`` as (1, C, y1 - y0, ``width``); ``sink(top, band)``
    receives the output of input rows ``top:top + tile`` (the centres of one row of tiles, stitched).
    """
    report, done, total = tile_progress.get(), 0, -(-height // tile) * -(-width // tile)
    for top in range(0, height, tile):
        y0, y1 = max(top - overlap, 0), min(top + tile + overlap, height)
        source = rows(y0, y1)
        keep_h, oy = min(tile, height - top), round((top - y0) * scale)
        band: torch.Tensor | None = None
        for left in range(0, width, tile):
            x0, x1 = max(left - overlap, 0), min(left + tile + overlap, width)
            result = fn(source[:, :, :, x0:x1].contiguous(memory_format=torch.channels_last)).float()
            if band is None:
                band_height = round((top + keep_h) * scale) - round(top * scale)
                band = source.new_zeros(1, result.shape[1], band_height, round(width * scale), dtype=torch.float32)
            keep_w, ox = min(tile, width - left), round((left - x0) * scale)
            band[:, :, :, round(left * scale) : round((left + keep_w) * scale)] = result[
                :, :, oy : oy + band.shape[2], ox : ox + round(keep_w * scale)
            ]
            done += 1
            if report is not None:
                report(done, total)
        assert band is not None  # a band has at least one tile
        sink(top, band)


def pad_even(image: torch.Tensor) -> torch.Tensor:
    """Replicate the last row/column so both sides are even."""
    pad_h, pad_w = image.shape[2] % 2, image.shape[3] % 2
    return F.pad(image, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else image


def _condition_tensor(condition: tuple[float, float]) -> torch.Tensor:
    return torch.tensor([condition], dtype=torch.float32)


@torch.inference_mode()
def restore(net: nn.Module, image: torch.Tensor, condition: tuple[float, float], device: torch.device) -> torch.Tensor:
    """Remove codec artifacts from a full-resolution decode (any size)."""
    height, width = image.shape[2:]
    cond = _condition_tensor(condition).to(device)
    model = runnable(net, device)

    def fn(tile: torch.Tensor) -> torch.Tensor:
        return model(tile.to(device), cond).cpu()

    return run_tiled(fn, pad_even(image), scale=1.0)[:, :, :height, :width].clamp_(0, 1)


@torch.inference_mode()
def restore_pixels(
    net: nn.Module,
    pixels: np.ndarray,
    condition: tuple[float, float],
    device: torch.device,
    *,
    offset: tuple[int, int] = (0, 0),
    finish: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
    in_place: bool = False,
    gray: bool | None = None,
    tile: int | None = None,
    passes: int = 1,
) -> np.ndarray:
    """:func:`restore` from uint8 pixels to uint8 pixels, one band of tiles at a time.

    Only a band's rows exist as float tensors, so memory stays bounded for any image size. The image is
    padded (replicated) by ``(-offset) % 8`` rows on top and columns on the left, so that an 8×8 grid
    starting at ``offset`` (rows, columns) lies on the origin as the network learned it, and to even sides.
    ``finish(band, first_row)`` may change a restored band (float, all three planes, in [0, 1]) whose
    first row is ``first_row`` of the image before it is rounded (the consistency projection).
    ``in_place``: the result overwrites ``pixels`` (no second image in memory); the rows a later band
    reads as context are kept aside before they are overwritten. ``gray`` (default: whether ``pixels``
    is 2-D) returns the planes' mean as (H, W); ``tile`` is :data:`BAND_TILE` unless given; ``passes`` > 1
    averages the network over flips and turns of each tile (:func:`jpegplus.ensemble.ensembled`).
    """
    height, width = pixels.shape[:2]
    gray = pixels.ndim == 2 if gray is None else gray
    in_place = in_place and (pixels.ndim == 2) == gray
    pad_top, pad_left = (-offset[0]) % BLOCK, (-offset[1]) % BLOCK
    padded_height, padded_width = height + pad_top, width + pad_left
    padded_height, padded_width = padded_height + padded_height % 2, padded_width + padded_width % 2
    columns = np.clip(np.arange(padded_width) - pad_left, 0, width - 1)  # replicate padding: clamped indices
    out = pixels if in_place else np.empty((height, width) if gray else (height, width, 3), np.uint8)
    context: list[tuple[int, np.ndarray]] = []  # (first row, original rows) overwritten in place, still needed
    cond = _condition_tensor(condition).to(device)
    model = runnable(net, device)

    def fn(tile: torch.Tensor) -> torch.Tensor:
        return model(tile.to(device), cond).cpu()

    def rows(y0: int, y1: int) -> torch.Tensor:
        index = np.clip(np.arange(y0, y1) - pad_top, 0, height - 1)
        band = pixels[index]
        if context:
            first, kept = context[0]
            held = (index >= first) & (index < first + len(kept))
            band[held] = kept[index[held] - first]
        return to_tensor(band if padded_width == width else band[:, columns])

    def sink(top: int, band: torch.Tensor) -> None:
        first = max(top - pad_top, 0)
        last = min(top + band.shape[2] - pad_top, height)
        if last <= first:
            return
        kept = band[:, :, first + pad_top - top : last + pad_top - top, pad_left : pad_left + width].clamp_(0, 1)
        if finish is not None:
            kept = finish(kept, first)
        if in_place:
            context[:] = [(max(last - OVERLAP, 0), pixels[max(last - OVERLAP, 0) : last].copy())]
        out[first:last] = to_image(kept, gray=gray)

    averaged = ensembled(fn, passes)
    run_banded(averaged, rows, padded_height, padded_width, sink, scale=1.0, tile=tile or BAND_TILE, overlap=OVERLAP)
    return out


@torch.inference_mode()
def upsample_restore(
    net: nn.Module,
    compact: torch.Tensor,
    condition: tuple[float, float],
    size: tuple[int, int],
    device: torch.device,
    *,
    passes: int = 1,
) -> torch.Tensor:
    """Bicubic 2× upsampling of a decoded compact image, repaired by ``net``, cropped to ``size`` (h, w);
    ``passes`` as :func:`restore_pixels` takes it."""
    cond = _condition_tensor(condition).to(device)
    model = runnable(net, device)

    def fn(tile: torch.Tensor) -> torch.Tensor:
        return model(upsample2x(tile.to(device)), cond).cpu()

    averaged = ensembled(fn, passes, scale=2.0)
    restored = run_tiled(averaged, compact, scale=2.0, tile=TILE // 2, overlap=OVERLAP // 2)  # TILE output pixels
    return restored[:, :, : size[0], : size[1]].clamp_(0, 1)


@torch.inference_mode()
def make_compact(net: ComCNN, image: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The half-resolution compact image (size rounded up) of a full-resolution image."""

    model = runnable(net, device)

    def fn(tile: torch.Tensor) -> torch.Tensor:
        return model(tile.to(device)).cpu()

    return run_tiled(fn, pad_even(image), scale=0.5, tile=COMPACT_TILE).clamp_(0, 1)
