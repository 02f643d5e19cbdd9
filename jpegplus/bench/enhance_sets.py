"""Evaluation sets for ``enhance``: the JPEGs people have, made from any folder of clean photos.

Each set is a folder of inputs, each beside its reference ``<name>.ref.png`` of the same size:

- ``q10`` … ``q95``: one libjpeg compression, 4:2:0 (the published tables' protocol).
- ``a-shifted``: quality 10, then 30 with the image shifted by 4 pixels (FBCNN's double-JPEG protocol).
- ``b-aligned``: quality 30, then 10 on the same grid.
- ``c-resized``: quality 30, resized to 50% (bicubic), then quality 75; the reference is the photo
  resized the same way.
- ``d-444``, ``d-422``: quality 20 with 4:4:4 and 4:2:2 chroma.
- ``e-jpegli``, ``e-progressive``: quality 20 by jpegli, and a progressive libjpeg file.
- ``e-mozjpeg``, ``e-mozjpeg-q10``: quality 20 and 10 as mozjpeg's ``cjpeg`` writes them (its own tables,
  trellis, progressive).
- ``f-gray``: quality 20, grayscale.
- ``blind-q10`` … ``blind-q40``: quality 10–40 decoded and saved as PNG (the file is gone).
- ``clean``: the photos themselves as PNG (never compressed: enhance must not harm them).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyjpegli
from PIL import Image

from jpegplus.codecs.jpeg.trellis import cjpeg_default
from jpegplus.errors import InvalidInputError, InvalidOptionError

SINGLE_QUALITIES = (10, 20, 30, 40, 90, 95)
BLIND_QUALITIES = (10, 20, 30, 40)
ROBUST_QUALITY = 20
SHIFT = 4
REFERENCE_SUFFIX = ".ref.png"

Maker = Callable[[np.ndarray], tuple[bytes, str, np.ndarray]]  # photo → (input file, its suffix, reference)


def _jpeg(image: np.ndarray, quality: int, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, **options)
    return buffer.getvalue()


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("L" if picture.mode == "L" else "RGB"))


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def _half(image: np.ndarray) -> np.ndarray:
    size = (image.shape[1] // 2, image.shape[0] // 2)
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC))


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else np.asarray(Image.fromarray(image).convert("L"))


def _jpegli(image: np.ndarray, quality: int) -> bytes:
    rgb = np.ascontiguousarray(np.repeat(image[:, :, None], 3, 2) if image.ndim == 2 else image)
    return pyjpegli.encode(rgb.tobytes(), rgb.shape[1], rgb.shape[0], quality)


def _plain(photo: np.ndarray, quality: int) -> tuple[bytes, str, np.ndarray]:
    return _jpeg(photo, quality), ".jpg", photo


def _blind(photo: np.ndarray, quality: int) -> tuple[bytes, str, np.ndarray]:
    """The pixels of a JPEG, saved losslessly: the file (and its tables) are gone."""
    return _png(_decode(_jpeg(photo, quality))), ".png", photo


def _shifted(photo: np.ndarray) -> tuple[bytes, str, np.ndarray]:
    first = _decode(_jpeg(photo, 10))[SHIFT:, SHIFT:]
    return _jpeg(first, 30), ".jpg", photo[SHIFT:, SHIFT:]


def _resized(photo: np.ndarray) -> tuple[bytes, str, np.ndarray]:
    return _jpeg(_half(_decode(_jpeg(photo, 30))), 75), ".jpg", _half(photo)


def set_makers() -> dict[str, Maker]:
    """Every set's name and how it makes one input (and reference) from a clean photo."""
    makers: dict[str, Maker] = {f"q{q}": functools.partial(_plain, quality=q) for q in SINGLE_QUALITIES}
    makers.update(
        {
            "a-shifted": _shifted,
            "b-aligned": lambda p: (_jpeg(_decode(_jpeg(p, 30)), 10), ".jpg", p),
            "c-resized": _resized,
            "d-444": lambda p: (_jpeg(p, ROBUST_QUALITY, subsampling="4:4:4"), ".jpg", p),
            "d-422": lambda p: (_jpeg(p, ROBUST_QUALITY, subsampling="4:2:2"), ".jpg", p),
            "e-jpegli": lambda p: (_jpegli(p, ROBUST_QUALITY), ".jpg", p),
            "e-progressive": lambda p: (_jpeg(p, ROBUST_QUALITY, progressive=True), ".jpg", p),
            "e-mozjpeg": lambda p: (cjpeg_default(p, ROBUST_QUALITY), ".jpg", p),
            "e-mozjpeg-q10": lambda p: (cjpeg_default(p, 10), ".jpg", p),
            "f-gray": lambda p: (_jpeg(_gray(p), ROBUST_QUALITY), ".jpg", _gray(p)),
            "clean": lambda p: (_png(p), ".png", p),
        }
    )
    makers.update({f"blind-q{q}": functools.partial(_blind, quality=q) for q in BLIND_QUALITIES})
    return makers


def make_sets(source: Path, out: Path, names: list[str] | None = None) -> dict[str, int]:
    """Write the sets (all, or ``names``) for every PNG photo of ``source`` into ``out``; files per set."""
    makers = set_makers()
    chosen = names or list(makers)
    unknown = sorted(set(chosen) - set(makers))
    if unknown:
        msg = f"unknown sets {', '.join(unknown)}; known: {', '.join(makers)}"
        raise InvalidOptionError(msg)
    photos = sorted(p for p in source.iterdir() if p.suffix.lower() == ".png") if source.is_dir() else []
    if not photos:
        msg = f"{source}: no PNG photos to make the sets from"
        raise InvalidInputError(msg)
    counts = {}
    for name in chosen:
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for path in photos:
            with Image.open(path) as picture:
                photo = np.asarray(picture.convert("L" if picture.mode in ("L", "I;16") else "RGB"))
            data, suffix, reference = makers[name](photo)
            (folder / f"{path.stem}{suffix}").write_bytes(data)
            (folder / f"{path.stem}{REFERENCE_SUFFIX}").write_bytes(_png(reference))
        counts[name] = len(photos)
    return counts
