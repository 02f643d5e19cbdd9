"""Transparency: what compress does with an alpha plane before the colour reaches the networks.

The networks restore colour only; alpha travels beside it in codecs that carry it (WebP losslessly,
AVIF and JPEG 2000 at high quality, see their adapters). Colour under fully transparent pixels is
never stored: it is replaced by a smooth continuation of the visible colours (push-pull), which
costs few bits and leaks nothing. JPEG has no alpha, so a transparent image is refused unless a
``background`` colour to flatten it onto is given.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
from PIL import ImageColor

from jpegplus.codecs import Codec
from jpegplus.codecs.pillow_codec import no_alpha_error
from jpegplus.errors import InvalidOptionError
from jpegplus.io import LoadedImage

Background = str | tuple[int, int, int]


def prepare(loaded: LoadedImage, codec: Codec, background: Background | None) -> LoadedImage:
    """The image compress encodes: flattened onto ``background`` when one is given, else with its
    hidden colours filled; a transparent image for a codec without alpha is refused."""
    if background is not None:
        return flatten(loaded, parse_background(background))
    if loaded.alpha is None:
        return loaded
    if not codec.carries_alpha:
        raise no_alpha_error(codec.name)
    return replace(loaded, pixels=fill_transparent(loaded.pixels, loaded.alpha))


def parse_background(background: Background) -> tuple[int, int, int]:
    """An RGB colour from a name (``"white"``), ``"#rrggbb"``/``"#rgb"``, ``"rgb(…)"`` or an (r, g, b) tuple.

    >>> parse_background("white"), parse_background("#ff8000"), parse_background((0, 0, 0))
    ((255, 255, 255), (255, 128, 0), (0, 0, 0))
    """
    if isinstance(background, str):
        try:
            colour = ImageColor.getrgb(background)
        except ValueError:
            msg = f"unknown background colour {background!r}; use a name (white), #rrggbb or an (r, g, b) tuple"
            raise InvalidOptionError(msg) from None
        return colour[0], colour[1], colour[2]
    values = tuple(background) if isinstance(background, (tuple, list)) else ()
    if len(values) != 3 or not all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in values):
        msg = f"background must be a colour name, #rrggbb or three integers 0-255, got {background!r}"
        raise InvalidOptionError(msg)
    return int(values[0]), int(values[1]), int(values[2])


def flatten(loaded: LoadedImage, background: tuple[int, int, int]) -> LoadedImage:
    """The image composited over an opaque ``background`` (as a viewer shows it on that colour); no alpha left.

    A gray image stays gray on a gray background and becomes RGB on a coloured one.
    """
    if loaded.alpha is None:
        return loaded
    pixels = loaded.pixels
    gray_background = background[0] == background[1] == background[2]
    if pixels.ndim == 2 and not gray_background:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    colour = np.array(background[0] if pixels.ndim == 2 else background, np.float32)
    weight = loaded.alpha.astype(np.float32) / 255.0
    if pixels.ndim == 3:
        weight = weight[:, :, None]
    mixed = pixels.astype(np.float32) * weight + colour * (1.0 - weight)
    return replace(loaded, pixels=np.clip(np.round(mixed), 0, 255).astype(np.uint8), alpha=None)


def fill_transparent(pixels: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``pixels`` with the colour under ``alpha == 0`` replaced by a smooth continuation of the visible colours.

    Push-pull: visible colours (weight 1) are averaged down a pyramid of halvings, then each level
    fills its invisible pixels from the coarser one. Visible pixels, partly transparent ones
    included, keep their colour exactly.
    """
    visible = (alpha > 0).astype(np.float32)
    if visible.all():
        return pixels
    if not visible.any():
        return np.zeros_like(pixels)
    planes = pixels.astype(np.float32) if pixels.ndim == 3 else pixels.astype(np.float32)[:, :, None]
    levels = [(planes * visible[:, :, None], visible)]
    while max(levels[-1][1].shape) > 1:
        colour, weight = levels[-1]
        size = ((weight.shape[1] + 1) // 2, (weight.shape[0] + 1) // 2)
        smaller = cv2.resize(colour, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
        levels.append((smaller, cv2.resize(weight, size, interpolation=cv2.INTER_AREA)))
    colour, weight = levels.pop()
    filled = colour / np.maximum(weight, 1e-12)[:, :, None]
    for colour, weight in reversed(levels):
        coarse = cv2.resize(filled, (weight.shape[1], weight.shape[0]), interpolation=cv2.INTER_LINEAR)
        coarse = coarse.reshape(colour.shape)
        share = np.clip(weight, 0.0, 1.0)[:, :, None]
        filled = colour / np.maximum(weight, 1e-12)[:, :, None] * share + coarse * (1.0 - share)
    result = np.where(visible[:, :, None] > 0, planes, np.clip(np.round(filled), 0, 255))
    return result.astype(np.uint8).reshape(pixels.shape)


def resize_alpha(alpha: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``alpha`` resampled to ``shape`` (H, W): area-averaged down, linear up (no overshoot into 0 or 255)."""
    if alpha.shape == tuple(shape[:2]):
        return alpha
    smaller = shape[0] * shape[1] < alpha.shape[0] * alpha.shape[1]
    method = cv2.INTER_AREA if smaller else cv2.INTER_LINEAR
    return cv2.resize(alpha, (shape[1], shape[0]), interpolation=method)
