"""The edges of jpegplus: loading inputs, tensor conversions and atomic file output.

Public images are uint8 numpy arrays, (H, W, 3) RGB or (H, W) gray; models see float32
(1, 3, H, W) tensors in [0, 1]. Only this module converts between the two.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import torch
from PIL import Image

from jpegplus import metadata
from jpegplus.codecs import get_codec
from jpegplus.codecs.jpeg import appended as after_picture
from jpegplus.codecs.jpeg.appended import Appended
from jpegplus.codecs.pillow_codec import (
    check_one_picture,
    check_side_limit,
    format_name,
    open_image,
    to_display_colours,
    to_planes,
)
from jpegplus.codecs.registry import CarriedMetadata
from jpegplus.errors import InvalidInputError, OutputError
from jpegplus.options import PICTURE_JPEG_QUALITY, check_pixel_count

PART_SUFFIX = ".part"  # temporary files of atomic writes: .NAME.RANDOM.part beside NAME

EncodedSource = Union[bytes, bytearray, memoryview, str, os.PathLike, BinaryIO]
"""An encoded file: its bytes, its path or a binary file object."""
ImageSource = Union[np.ndarray, Image.Image, EncodedSource]
"""Pixels (a uint8 array or a PIL image) or an encoded file."""


@dataclass(frozen=True)
class LoadedImage:
    """Pixels plus what travels beside them: alpha, the EXIF, ICC and XMP metadata, the pixel density and text.

    ``pixels`` is uint8 (H, W, 3) RGB or (H, W) gray; ``alpha`` a uint8 (H, W) plane, ``None`` when opaque;
    ``dpi`` the (horizontal, vertical) dots per inch the file gave, ``None`` when it gave none; ``text`` its
    text fields by key (a PNG's text chunks, a JPEG's or GIF's comment as ``Comment``), ``None`` without any;
    ``segments`` a JPEG's metadata segments that no other field holds (IPTC, extended XMP), whole;
    ``appended`` what a JPEG's file holds after its picture (an MPO's further pictures, a motion photo's video),
    which only JPEG outputs carry (:mod:`jpegplus.codecs.jpeg.appended`).
    """

    pixels: np.ndarray
    exif: bytes | None = None
    icc: bytes | None = None
    xmp: bytes | None = None
    alpha: np.ndarray | None = None
    dpi: tuple[float, float] | None = None
    text: dict[str, str] | None = None
    segments: tuple[bytes, ...] | None = None
    appended: Appended | None = None

    @property
    def carried(self) -> CarriedMetadata:
        """What a file written of this image carries beside the pixels (codecs' ``encode`` takes it as keywords)."""
        return {
            "exif": self.exif, "icc": self.icc, "xmp": self.xmp, "dpi": self.dpi, "text": self.text,
            "segments": self.segments,
        }  # fmt: skip

    @property
    def array(self) -> np.ndarray:
        """The picture as one array: RGBA (H, W, 4) or gray + alpha (H, W, 2) with alpha, else ``pixels``."""
        if self.alpha is None:
            return self.pixels
        return np.ascontiguousarray(np.dstack([self.pixels, self.alpha]))

    def bits_per_pixel(self, size: int) -> float:
        """The rate of ``size`` bytes for this image's pixel count."""
        return size * 8 / self.pixels.shape[0] / self.pixels.shape[1]


def is_encoded(source: object) -> bool:
    """Whether ``source`` is an encoded file (bytes, path or binary file object) rather than pixels."""
    return isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike)) or hasattr(source, "read")


def read_encoded(source: object) -> bytes:
    """The bytes of an encoded file given as bytes, a path or a binary file object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        if not os.fspath(source):  # Path("") is the current folder
            msg = "an empty path names no file"
            raise InvalidInputError(msg)
        return read_file(Path(source))
    if hasattr(source, "read"):
        try:
            data = source.read()
        except (OSError, ValueError) as error:
            msg = f"cannot read the file object: {error}"
            raise InvalidInputError(msg) from None
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
    msg = f"unsupported input type {type(source).__name__}: pass encoded bytes, a path or a binary file object"
    raise InvalidInputError(msg)


def load_image(source: ImageSource, *, max_pixels: int | None = None) -> LoadedImage:
    """Accept a uint8 array, a PIL image or an encoded file; keep alpha, EXIF, ICC and XMP when present.

    Arrays may be (H, W) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB or (H, W, 4) RGBA.
    ``max_pixels`` refuses a larger image (an encoded file before it is decoded).
    """
    data = read_encoded(source) if is_encoded(source) else None
    if data is not None:
        source = check_one_picture(open_image(data, max_pixels=max_pixels))
    if isinstance(source, np.ndarray):
        loaded = from_array(check_pixels(source))
    elif isinstance(source, Image.Image):
        loaded = from_picture(check_open(source), data)
    else:
        msg = f"unsupported image type {type(source).__name__}: pass a uint8 array, a PIL image, a path or bytes"
        raise InvalidInputError(msg)
    if max_pixels is not None:
        check_pixel_count(loaded.pixels.shape[1], loaded.pixels.shape[0], max_pixels, "the image")
    return loaded


def check_open(picture: Image.Image) -> Image.Image:
    """``picture``, loaded; a one-line error when it was closed (or the file it reads from was) or cannot load."""
    try:
        picture.load()
        _ = picture.im.size  # a closed image's core raises here
    except (AssertionError, ValueError):  # Pillow's ways of saying its file or its pixels are gone
        msg = "the PIL image is closed (or the file it reads from is): open it again, or pass the file's path"
        raise InvalidInputError(msg) from None
    except OSError as error:
        msg = f"cannot read the PIL image's pixels: {error}"
        raise InvalidInputError(msg) from None
    return picture


def from_array(planes: np.ndarray) -> LoadedImage:
    """A checked array as colour and alpha: the last plane of (H, W, 2) and (H, W, 4) arrays is alpha."""
    if planes.ndim == 2 or planes.shape[2] == 3:
        return LoadedImage(planes)
    colour = planes[:, :, 0] if planes.shape[2] == 2 else planes[:, :, :3]
    alpha = planes[:, :, -1]
    return LoadedImage(np.ascontiguousarray(colour), alpha=np.ascontiguousarray(alpha) if alpha.min() < 255 else None)


def from_picture(picture: Image.Image, data: bytes | None = None) -> LoadedImage:
    """A decoded Pillow image as colour and alpha planes with its EXIF, ICC, XMP, pixel density, text and other
    JPEG metadata segments; and, given the file's ``data``, what a JPEG's file holds after its picture."""
    converted, icc = to_display_colours(picture)
    colour, alpha = to_planes(converted)
    exif, xmp = metadata.read_exif(picture), metadata.read_xmp(picture, data)
    dpi, text = metadata.read_dpi(picture), metadata.read_text(picture)
    appended = after_picture.read(data) if data is not None and format_name(picture) == "JPEG" else None
    metadata.note_left_out_segments(picture)
    segments = metadata.read_segments(picture, data)
    return LoadedImage(check_pixels(colour), exif, icc, xmp, alpha, dpi, text, segments, appended)


def check_pixels(pixels: np.ndarray) -> np.ndarray:
    """Validate an image array: uint8, (H, W) or (H, W, C) with C = 2 (gray + alpha), 3 (RGB) or 4 (RGBA), not empty."""
    if pixels.dtype != np.uint8:
        msg = f"image arrays must be uint8, got {pixels.dtype}"
        raise InvalidInputError(msg)
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] in (2, 3, 4))):
        msg = f"image arrays must be (H, W) gray or (H, W, 2|3|4) gray+alpha, RGB or RGBA, got shape {pixels.shape}"
        raise InvalidInputError(msg)
    if pixels.shape[0] == 0 or pixels.shape[1] == 0:
        msg = f"image is empty (shape {pixels.shape})"
        raise InvalidInputError(msg)
    return np.ascontiguousarray(pixels)


MAX_INPUT_BYTES = 512 * 2**20  # far above any photo jpegplus accepts (a 24 MP PNG is about 50 MB)


def read_file(path: Path, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Read a whole input file, with a one-line error when that is impossible.

    Only regular files are read (never a device or a FIFO, which could stream forever or block),
    and never more than ``limit`` bytes.
    """
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        msg = f"no such file: {path}"
        raise InvalidInputError(msg) from None
    except ValueError:  # os.open refuses a path with a NUL byte, which no file can have
        msg = f"no such file: {str(path)!r} (a path cannot contain a NUL byte)"
        raise InvalidInputError(msg) from None
    except OSError as error:
        msg = f"cannot read {path}: {error.strerror or error}"
        raise InvalidInputError(msg) from None
    facts = os.fstat(handle)
    problem = None
    if stat.S_ISDIR(facts.st_mode):
        problem = f"{path} is a folder, not an image file"
    elif not stat.S_ISREG(facts.st_mode):
        problem = f"{path} is not a regular file (a device, FIFO or socket); jpegplus reads image files or '-'"
    elif facts.st_size > limit:
        problem = f"{path} is {facts.st_size} bytes, more than the {limit}-byte input limit"
    if problem is not None:
        os.close(handle)
        raise InvalidInputError(problem)
    with os.fdopen(handle, "rb") as stream:
        return read_stream(stream, str(path), limit=limit)


def read_stream(stream: BinaryIO, name: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """Read a stream (standard input) to its end, refusing more than ``limit`` bytes."""
    try:
        data = stream.read(limit + 1)
    except OSError as error:
        msg = f"cannot read {name}: {error.strerror or error}"
        raise InvalidInputError(msg) from None
    if len(data) > limit:
        msg = f"{name} holds more than the {limit}-byte input limit"
        raise InvalidInputError(msg)
    return data


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) or (H, W) → float (1, 3, H, W) in [0, 1]; gray is repeated to three planes."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None].repeat(3, axis=2)
    return torch.tensor(pixels).permute(2, 0, 1)[None].float().div_(255.0)


def to_batch_tensor(batch: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) patches → float (N, 3, H, W) in [0, 1], channels-last memory (training batches)."""
    tensor = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float() / 255.0
    return tensor.contiguous(memory_format=torch.channels_last)


def to_image(tensor: torch.Tensor, *, gray: bool) -> np.ndarray:
    """float (1, 3, H, W) → uint8, clamped and rounded; ``gray`` averages the planes."""
    planes = tensor[0].float()
    if gray:
        planes = planes.mean(dim=0, keepdim=True)
    pixels = planes.mul(255.0).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(pixels[:, :, 0] if gray else pixels)


def encode_picture(loaded: LoadedImage, suffix: str, *, quality: int = PICTURE_JPEG_QUALITY) -> bytes:
    """Encode decoded pixels (and alpha) for a file named ``*suffix`` (PNG, TIFF, …), keeping EXIF, ICC, XMP, the
    pixel density and the text fields the format holds; a JPEG (no alpha: refused) at ``quality`` as the JPEG
    codec writes it.

    Only a JPEG keeps an EXIF orientation other than 1; other formats get the rotation baked in
    (see :mod:`jpegplus.metadata`).
    """
    formats = Image.registered_extensions()
    pillow_format = formats.get(suffix.lower())
    if pillow_format is None:
        msg = f"unknown output extension {suffix!r}; use .png, .tif or another image extension"
        raise OutputError(msg)
    if pillow_format == "JPEG" and loaded.alpha is not None:
        msg = f"a {suffix} file cannot hold the image's transparency; write .png, .webp or .tif"
        raise OutputError(msg)
    check_side_limit(pillow_format, loaded.pixels.shape[1], loaded.pixels.shape[0])
    if pillow_format == "JPEG":
        jpeg = get_codec("jpeg")
        fitted = metadata.fit(loaded, jpeg)
        return after_picture.with_appended(jpeg.encode(fitted.pixels, quality, **fitted.carried), fitted.appended)
    fitted = metadata.fit(loaded, metadata.PLAIN_FILE)
    return metadata.encode_with_metadata(Image.fromarray(fitted.array), fitted, pillow_format)


def write_atomic(path: Path, data: bytes, *, force: bool = False, inputs: tuple[Path, ...] = ()) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: never partial.

    An existing file is replaced only with ``force``; an input file never is. The file gets the
    permissions an ordinary write would give it: the umask's for a new file, the old file's when
    one is replaced.
    """
    write_together([(path, data)], force=force, inputs=inputs)


def write_together(
    outputs: Sequence[tuple[Path, bytes]], *, force: bool = False, inputs: tuple[Path, ...] = ()
) -> None:
    """Write several files all or none: each is staged in a temporary file beside it, then all are renamed."""
    for path, _ in outputs:
        if any(path.resolve() == source.resolve() for source in inputs):
            msg = f"refusing to overwrite the input {path}"
            raise OutputError(msg)
        if path.exists() and not force:
            msg = f"{path} exists; pass --force to replace it"
            raise OutputError(msg)
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for path, data in outputs:
            staged.append((_stage(path, data), path))
        for temporary, path in staged:
            existed = path.exists()
            os.replace(temporary, path)
            if not existed:
                created.append(path)
    except BaseException as error:  # stopped part-way (even by Ctrl-C): leave nothing new behind
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for path in created:
            path.unlink(missing_ok=True)
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            msg = f"cannot write {error.filename or 'the output'}: {error.strerror or error}"
            raise OutputError(msg) from None
        raise


def _stage(path: Path, data: bytes) -> Path:
    """A complete, synced temporary copy of ``data`` beside ``path`` (``.NAME.RANDOM.part``)."""
    folder = path.parent
    temporary = folder / f".{path.name}.{secrets.token_hex(4)}{PART_SUFFIX}"
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as error:
        msg = f"cannot write into {folder}: {error.strerror or error}"
        raise OutputError(msg) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            if path.exists():
                os.fchmod(stream.fileno(), stat.S_IMODE(path.stat().st_mode))
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def remove_leftovers(paths: Iterable[Path]) -> int:
    """Delete the temporary files of atomic writes to ``paths`` that a killed process left behind.

    Returns how many were removed. Each folder is listed once, so this stays cheap for big batches.
    """
    names: dict[Path, set[str]] = {}
    for path in paths:
        names.setdefault(path.parent, set()).add(path.name)
    removed = 0
    for folder, wanted in names.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(PART_SUFFIX):
                if entry.name[1 : -len(PART_SUFFIX)].rpartition(".")[0] in wanted:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
    return removed
