"""Running the networks on whole images in overlapping tiles, so memory stays bounded."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

import torch
from torch import nn
from torch.nn import functional as F

from jpegplus.models import ComCNN, upsample2x
from jpegplus.runtime import runnable

# input pixels per tile side (even). A reconstruction tile of 2048 spends 13% on its overlap instead of
# 27% at 1024: 12% less CPU for a 24 MP decompress, the same peak memory (its activations are at half
# resolution). The ComCNN keeps 1024: its first layer has 64 full-resolution channels.
TILE = 2048
COMPACT_TILE = 1024
OVERLAP = 64  # context on each side: past the RecCNN's 82-pixel field, a multiple of RestoreNet's 16-pixel grid

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
    out: torch.Tensor | None = None
    report, done, total = tile_progress.get(), 0, -(-height // tile) * -(-width // tile)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            y0, x0 = max(top - overlap, 0), max(left - overlap, 0)
            y1, x1 = min(top + tile + overlap, height), min(left + tile + overlap, width)
            result = fn(image[:, :, y0:y1, x0:x1].contiguous(memory_format=torch.channels_last)).float()
            if out is None:
                out = image.new_zeros(1, result.shape[1], round(height * scale), round(width * scale))
            keep_h, keep_w = min(tile, height - top), min(tile, width - left)
            oy, ox = round((top - y0) * scale), round((left - x0) * scale)
            out[
                :,
                :,
                round(top * scale) : round((top + keep_h) * scale),
                round(left * scale) : round((left + keep_w) * scale),
            ] = result[:, :, oy : oy + round(keep_h * scale), ox : ox + round(keep_w * scale)]
            done += 1
            if report is not None:
                report(done, total)
    assert out is not None  # an image has at least one tile
    return out


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
def upsample_restore(
    net: nn.Module, compact: torch.Tensor, condition: tuple[float, float], size: tuple[int, int], device: torch.device
) -> torch.Tensor:
    """Bicubic 2× upsampling of a decoded compact image, repaired by ``net``, cropped to ``size`` (h, w)."""
    cond = _condition_tensor(condition).to(device)
    model = runnable(net, device)

    def fn(tile: torch.Tensor) -> torch.Tensor:
        return model(upsample2x(tile.to(device)), cond).cpu()

    restored = run_tiled(fn, compact, scale=2.0, tile=TILE // 2, overlap=OVERLAP // 2)  # TILE output pixels
    return restored[:, :, : size[0], : size[1]].clamp_(0, 1)


@torch.inference_mode()
def make_compact(net: ComCNN, image: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The half-resolution compact image (size rounded up) of a full-resolution image."""

    model = runnable(net, device)

    def fn(tile: torch.Tensor) -> torch.Tensor:
        return model(tile.to(device)).cpu()

    return run_tiled(fn, pad_even(image), scale=0.5, tile=COMPACT_TILE).clamp_(0, 1)
