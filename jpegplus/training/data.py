"""Training data, prepared once: aligned patches of clean photos and their real codec decodes."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from jpegplus.codecs import CodecName, get_codec
from jpegplus.codecs.jpeg.codec import JpegCodec
from jpegplus.codecs.jpeg.quantization import (
    condition_from_picture,
    condition_from_quality,
    standard_tables,
)
from jpegplus.encoder import full_mode_codec
from jpegplus.modes import Mode
from jpegplus.weights import select

SUBSAMPLINGS = ("4:2:0", "4:2:0", "4:2:0", "4:2:2", "4:4:4")
RoundTrip = Callable[
    [np.ndarray, np.random.Generator, tuple[int, int]], tuple[np.ndarray, np.ndarray, tuple[float, float]]
]
GRAY_SHARE = 0.15  # of the JPEG pairs encoded from the photo's luma
STANDARD_SHARE = 0.45  # libjpeg's standard tables at a random quality
RESTORATION_SHARE = 0.40  # compress's trellis-quantized full-mode files; the rest get a jittered custom pair
CUSTOM_JITTER = (0.8, 1.25)  # range of the per-step factor of custom tables
GRID = 16  # crops start on the 4:2:0 MCU grid so block boundaries sit where a decoder put them


@dataclass(frozen=True)
class PatchSet:
    """Clean patches, their degraded counterparts and the per-patch condition."""

    clean: np.ndarray  # (N, P, P, 3) uint8
    degraded: np.ndarray  # (N, P, P, 3) uint8
    condition: np.ndarray  # (N, 2) float32

    def save(self, path: Path) -> None:
        """Store as one uncompressed .npz."""
        np.savez(path, clean=self.clean, degraded=self.degraded, condition=self.condition)

    @classmethod
    def load(cls, path: Path) -> PatchSet:
        """Load what :meth:`save` wrote."""
        with np.load(path) as arrays:
            return cls(arrays["clean"], arrays["degraded"], arrays["condition"])


def training_images(folder: Path) -> list[Path]:
    """The PNG photos of a training folder, sorted by name."""
    paths = sorted(folder.glob("*.png"))
    if not paths:
        msg = f"no PNG training images in {folder}"
        raise FileNotFoundError(msg)
    return paths


def split_validation(paths: list[Path], count: int) -> tuple[list[Path], list[Path]]:
    """Hold out every n-th photo (deterministically) for validation."""
    step = max(len(paths) // max(count, 1), 1)
    validation = paths[::step][:count]
    held = set(validation)
    return [p for p in paths if p not in held], validation


def random_jpeg(image: np.ndarray, rng: np.random.Generator, qualities: tuple[int, int]) -> tuple[bytes, bool]:
    """Encode with a random quality, chroma subsampling and tables: standard, what compress writes in full
    mode for its lean network (the restoration tables, trellis quantization, 4:2:0) or a custom pair (jittered
    tables of unrelated qualities).

    Returns the JPEG and whether it is grayscale.
    """
    gray = rng.random() < GRAY_SHARE
    picture = Image.fromarray(image).convert("L") if gray else Image.fromarray(image)
    options: dict[str, object] = {"subsampling": SUBSAMPLINGS[rng.integers(len(SUBSAMPLINGS))]}
    quality = int(rng.integers(qualities[0], qualities[1] + 1))
    kind = rng.random()
    if STANDARD_SHARE <= kind < STANDARD_SHARE + RESTORATION_SHARE:
        return JpegCodec().for_restoration(trellis=True).encode(np.asarray(picture), quality), gray
    if kind < STANDARD_SHARE:
        options["quality"] = quality
    else:
        luma = standard_tables(quality)[0]
        chroma = standard_tables(int(rng.integers(qualities[0], qualities[1] + 1)))[1]
        tables = tuple(np.clip(t * rng.uniform(*CUSTOM_JITTER, 64), 1, 255) for t in (luma, chroma))
        options["qtables"] = [t.astype(int).tolist() for t in tables[: 1 if gray else 2]]
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", **options)
    return buffer.getvalue(), gray


def compress_round_trip(
    image: np.ndarray, rng: np.random.Generator, qualities: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """A pair exactly as compress writes a full-mode JPEG for the installed networks (restoration tables, 4:2:0,
    trellis where the restoring network was trained on it), gray from the photo's luma at :data:`GRAY_SHARE`:
    (decoded RGB, clean reference, condition)."""
    gray = rng.random() < GRAY_SHARE
    reference = luma_planes(image) if gray else image
    quality = int(rng.integers(qualities[0], qualities[1] + 1))
    codec = full_mode_codec(get_codec(CodecName.JPEG.value), select(CodecName.JPEG.value, Mode.FULL), quality)
    stored = np.ascontiguousarray(reference[:, :, 0]) if gray else image
    decoded, condition = decode_jpeg(codec.encode(stored, quality))
    return decoded, reference, condition


def luma_planes(image: np.ndarray) -> np.ndarray:
    """The photo's luma, repeated to three planes (what a gray file's RGB decode is compared with)."""
    return np.repeat(np.asarray(Image.fromarray(image).convert("L"))[:, :, None], 3, 2)


def decode_jpeg(data: bytes) -> tuple[np.ndarray, tuple[float, float]]:
    """Decode a JPEG to RGB and read its condition from the quantization tables."""
    picture = Image.open(io.BytesIO(data))
    condition = condition_from_picture(picture)
    if condition is None:
        msg = "a training JPEG without quantization tables"
        raise ValueError(msg)
    return np.asarray(picture.convert("RGB")), condition


def random_round_trip(
    image: np.ndarray, rng: np.random.Generator, codec: str, qualities: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Encode and decode once at a random setting: (decoded RGB, clean reference, model condition).

    JPEG draws tables, subsampling and gray as :func:`random_jpeg` (a gray file's reference is the
    photo's luma); the other codecs draw a quality, which is also their condition (they have no
    tables to read).
    """
    if codec == CodecName.JPEG.value:
        data, gray = random_jpeg(image, rng, qualities)
        decoded, condition = decode_jpeg(data)
        reference = luma_planes(image) if gray else image
        return decoded, reference, condition
    quality = int(rng.integers(qualities[0], qualities[1] + 1))
    chosen = get_codec(codec)
    return chosen.decode(chosen.encode(image, quality)), image, condition_from_quality(quality)


def artifact_patches(
    paths: list[Path],
    *,
    patch: int,
    crops: int,
    encodes: int,
    qualities: tuple[int, int],
    seed: int,
    codec: str = CodecName.JPEG.value,
    round_trip: RoundTrip | None = None,
) -> PatchSet:
    """Pairs for artifact removal: each photo encoded ``encodes`` times, ``crops`` crops each.

    Each encode is ``round_trip`` (image, rng, qualities) → (decoded, reference, condition), by
    default one :func:`random_round_trip` of ``codec``.
    """
    rng = np.random.default_rng(seed)
    encode = round_trip or (lambda image, rng, qualities: random_round_trip(image, rng, codec, qualities))
    clean, degraded, condition = [], [], []
    for path in paths:
        image = np.asarray(Image.open(path).convert("RGB"))
        for _ in range(encodes):
            decoded, reference, cond = encode(image, rng, qualities)
            for top, left in _grid_crops(decoded.shape, patch, crops, rng):
                clean.append(reference[top : top + patch, left : left + patch])
                degraded.append(decoded[top : top + patch, left : left + patch])
                condition.append(cond)
    return PatchSet(np.stack(clean), np.stack(degraded), np.asarray(condition, dtype=np.float32))


def clean_patches(paths: list[Path], *, patch: int, crops: int, seed: int) -> np.ndarray:
    """Random clean crops (N, P, P, 3) for the half-resolution path."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    for path in paths:
        image = np.asarray(Image.open(path).convert("RGB"))
        out.extend(image[t : t + patch, lf : lf + patch] for t, lf in _grid_crops(image.shape, patch, crops, rng))
    return np.stack(out)


def _grid_crops(shape: tuple[int, ...], patch: int, count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``count`` crop corners on the MCU grid; none if the image is smaller than the patch (a photo that a
    legacy pair shrank between its compressions can be)."""
    rows = (shape[0] - patch) // GRID + 1
    cols = (shape[1] - patch) // GRID + 1
    if rows < 1 or cols < 1:
        return []
    return [(int(rng.integers(rows)) * GRID, int(rng.integers(cols)) * GRID) for _ in range(count)]
