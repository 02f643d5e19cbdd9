"""Geometric self-ensemble: a network's output averaged over flips and quarter turns of its input.

A restoring network is not exactly equivariant to flips and turns, so the mean of its outputs on the
turned copies (each turned back) has less error than one pass, at one network pass per copy (Lim et al.,
"Enhanced Deep Residual Networks for Single Image Super-Resolution", CVPRW 2017: their "+" models).
Each copy keeps the JPEG grid: the tile is padded to whole 16-pixel macroblocks before it is turned.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

TileFn = Callable[[torch.Tensor], torch.Tensor]
Turn = Callable[[torch.Tensor], torch.Tensor]
GRID = 16  # a 4:2:0 JPEG's macroblock: turned on whole macroblocks, every 8×8 block stays a block


def _flip(*dims: int) -> Turn:
    return lambda image: image.flip(dims)


def _transpose(image: torch.Tensor) -> torch.Tensor:
    return image.transpose(-2, -1)


def _turn(quarters: int) -> Turn:
    return lambda image: image.rot90(quarters, dims=(-2, -1))


def _anti_transpose(image: torch.Tensor) -> torch.Tensor:
    return image.transpose(-2, -1).flip((-2, -1))


# (turn, its inverse), ordered so that the first 2 (a half turn), 4 (the quarter turns) and 8 (with the mirror
# images) are the groups measured best for each number of passes (`jpegplus.options.PASSES`)
TURNS: tuple[tuple[Turn, Turn], ...] = (
    (lambda image: image, lambda image: image),
    (_turn(2), _turn(2)),
    (_turn(1), _turn(-1)),
    (_turn(-1), _turn(1)),
    (_flip(-1), _flip(-1)),
    (_flip(-2), _flip(-2)),
    (_transpose, _transpose),
    (_anti_transpose, _anti_transpose),
)


def ensembled(fn: TileFn, passes: int, *, scale: float = 1.0) -> TileFn:
    """``fn`` (input size × ``scale`` = output size) as the mean of its outputs on the first ``passes`` turns
    of each tile, each turned back; ``fn`` itself for one pass."""
    if passes == 1:
        return fn

    def averaged(tile: torch.Tensor) -> torch.Tensor:
        height, width = tile.shape[-2:]
        padded = F.pad(tile, (0, -width % GRID, 0, -height % GRID), mode="replicate")
        total: torch.Tensor | None = None
        for turn, back in TURNS[:passes]:
            out = back(fn(turn(padded).contiguous(memory_format=torch.channels_last)).float())
            total = out if total is None else total.add_(out)
        assert total is not None  # passes >= 1
        return total[..., : round(height * scale), : round(width * scale)].div_(passes)

    return averaged
