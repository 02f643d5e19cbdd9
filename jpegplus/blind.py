"""How hard pixels were JPEG-compressed when the file is gone (a PNG saved from a decode, video frames).

A JPEG decoder rebuilds every 8×8 luma block from integer multiples of the quantization steps, so
the DCT of a decoded block, taken on the encoder's grid, still sits on that lattice (up to the
rounding of pixels to 8 bits). Two measurements read the file's history back from its pixels::

    luma ─ blocks at each of the 64 grid offsets ─ DCT ─ offset whose high frequencies are nearest 0
         ─ low-frequency coefficients there ─ libjpeg quality whose steps they sit on (phase coherence)

Pixels with no such lattice (never JPEG-compressed, or resized since) give no estimate, and
``enhance`` then leaves them as they are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from jpegplus.codecs.jpeg.consistency import BLOCK, DCT, LUMA_WEIGHTS
from jpegplus.codecs.jpeg.quantization import standard_tables

WINDOW_BLOCKS = 64  # blocks a side measured per offset (4,096): a stable estimate, cheap at any image size
ZIGZAG_LOW = (0, 1, 8, 16, 9, 2, 3, 10, 17, 24)  # DC and the nine lowest AC frequencies (natural order)
HIGH_FREQUENCIES = np.array([u * BLOCK + v for u in range(BLOCK) for v in range(BLOCK) if u + v >= 8])
GRID_CONTRAST = 0.85  # the grid is found when its offset's high frequencies are this much quieter than the median
LATTICE_COHERENCE = 0.5  # least mean phase coherence of the low frequencies on the chosen quality's steps
LEAST_LEVELS = 64  # coefficients off zero a frequency needs before its lattice counts
# the frequencies in natural order, and transposed ((u, v) read as (v, u)): the blocks of a quarter-turned JPEG
ORIENTATIONS = (np.arange(BLOCK * BLOCK), np.array([v * BLOCK + u for u in range(BLOCK) for v in range(BLOCK)]))


@dataclass(frozen=True)
class BlindEstimate:
    """What the pixels say about their last JPEG compression."""

    quality: int | None  # libjpeg quality whose standard steps the pixels sit on; None: no JPEG trace
    offset: tuple[int, int] = (0, 0)  # (rows, columns) at which the 8×8 grid starts


# the 2-D DCT of a flattened 8×8 block as one matrix, and its high-frequency rows (the grid search's)
BLOCK_DCT = np.kron(DCT.numpy(), DCT.numpy())
HIGH_DCT = np.ascontiguousarray(BLOCK_DCT[HIGH_FREQUENCIES])


def _luma(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    return pixels[:, :, :3].astype(np.float32) @ np.asarray(LUMA_WEIGHTS, dtype=np.float32)


def _spectra(window: np.ndarray, offset: tuple[int, int], basis: np.ndarray = BLOCK_DCT) -> np.ndarray:
    """(N, F) DCT coefficients of the whole 8×8 blocks of ``window`` on the grid starting at ``offset``, at the F
    frequencies of ``basis``'s rows (all 64 by default)."""
    rows, cols = (window.shape[0] - offset[0]) // BLOCK, (window.shape[1] - offset[1]) // BLOCK
    area = window[offset[0] : offset[0] + rows * BLOCK, offset[1] : offset[1] + cols * BLOCK]
    blocks = area.reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3).reshape(rows * cols, BLOCK * BLOCK)
    return (blocks - 128.0) @ basis.T


def _coherence(values: np.ndarray, step: float) -> float:
    """How closely ``values`` off zero sit on multiples of ``step`` (1: exactly, ~0: not at all)."""
    levels = values[np.abs(values) > step / 2]
    if len(levels) < LEAST_LEVELS:
        return np.nan
    return float(np.abs(np.exp(2j * np.pi * levels / step).mean()))


def estimate(pixels: np.ndarray) -> BlindEstimate:
    """The grid offset and libjpeg quality of the last JPEG compression behind ``pixels`` (uint8 RGB or gray)."""
    window = _central_window(_luma(pixels))
    if min(window.shape) < 2 * BLOCK:
        return BlindEstimate(None)
    offsets = [(dy, dx) for dy in range(BLOCK) for dx in range(BLOCK)]
    noise = {offset: float(np.abs(_spectra(window, offset, HIGH_DCT)).mean()) for offset in offsets}
    offset = min(noise, key=noise.__getitem__)
    if noise[offset] > GRID_CONTRAST * float(np.median(list(noise.values()))):
        return BlindEstimate(None)
    quality = _quality_on_lattice(_spectra(window, offset))
    return BlindEstimate(quality, offset if quality is not None else (0, 0))


def _central_window(luma: np.ndarray) -> np.ndarray:
    """The centre of the image, at most WINDOW_BLOCKS + 1 blocks a side: the estimate's cost is bounded. It
    starts on a multiple of 8 pixels, so offsets found in it are the image's."""
    side = (WINDOW_BLOCKS + 1) * BLOCK
    top, left = (max((length - side) // 2, 0) // BLOCK * BLOCK for length in luma.shape[:2])
    return luma[top : top + side, left : left + side]


def _quality_on_lattice(spectrum: np.ndarray) -> int | None:
    """The lowest libjpeg quality whose luma steps the low frequencies sit on, or ``None``. The steps are tried as
    the file holds them and transposed: pixels of a JPEG turned a quarter (shown upright by its EXIF orientation,
    a portrait photo) hold each block's coefficients transposed, and libjpeg's table is not symmetric."""
    scores = max(
        (_lattice_scores(spectrum[:, order]) for order in ORIENTATIONS), key=lambda s: max(s.values(), default=0)
    )
    if not scores:
        return None
    best = max(scores.values())
    if best < LATTICE_COHERENCE:
        return None
    return min(q for q, score in scores.items() if score >= 0.9 * best)


def _lattice_scores(spectrum: np.ndarray) -> dict[int, float]:
    """Each libjpeg quality's mean phase coherence of the low frequencies on its luma steps, where measurable."""

    @functools.cache  # qualities share many steps: measure each once
    def coherence(frequency: int, step: float) -> float:
        return _coherence(spectrum[:, frequency], step)

    scores = {}
    for quality in range(1, 101):
        steps = standard_tables(quality)[0]
        coherences = [coherence(f, steps[f]) for f in ZIGZAG_LOW if steps[f] > 1]
        measured = [c for c in coherences if not np.isnan(c)]
        if measured:
            scores[quality] = float(np.mean(measured))
    return scores
