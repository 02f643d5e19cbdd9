"""The seed files the fuzzer starts from, built the same way on every run (no data set images).

jpegplus files of all four codecs in both stored modes (made by the jpegplus under test), plain
files of every format Pillow writes, the odd images of issue #18 (1×1, 1×N, gray, RGBA, 16-bit,
CMYK, progressive, EXIF-rotated, oversized or malformed EXIF, garbage ICC), tiny files that claim
huge sizes, non-images and, on request, the heavy bombs (real multi-megapixel work in small files).

Tags say what a seed is, so cases know what to expect of it untouched:

- ``jpegplus``: a jpegplus file; ``decompress`` must succeed.
- ``jpeg``: a JPEG ``enhance`` must accept.
- ``image``: a picture ``compress`` must accept.
- ``claims-huge``: a tiny file claiming a size far beyond any limit: refused, before allocating.
- ``claims-large``: a tiny file claiming a size just under the default limit (90 MP): processed
  within the memory limit, or refused.
- ``heavy``: legitimate big work in a small file (campaign only: bounded memory, a long time limit).
- ``alpha``: a picture with transparency (JPEG cannot keep it: compress may refuse it).
- ``either``: a picture the library may read or refuse (32-bit float samples; EXIF over 64 KB,
  malformed EXIF or ICC, which may be dropped with a warning or refused).
- ``corpus``: a committed reproducer (its expectation lives in the corpus manifest).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from fuzzing.mutate import with_claimed_size
from fuzzing.payload import ascii_payload, payload_fields, write_binary
from fuzzing.structure import payload_spot, replace_payload

INDEX = "seeds.json"
NEEDS = {"compress": "image", "decompress": "jpegplus", "enhance": "jpeg", "info": "image"}  # the tag a command needs


@dataclass(frozen=True)
class Seed:
    """One seed file: its name (with the extension it would have on disk), bytes and tags."""

    name: str
    data: bytes
    tags: frozenset[str]


def fits(seed: Seed, command: str) -> bool | None:
    """Whether ``command`` (compress, decompress, enhance, info) must accept the untouched seed; ``None``: either."""
    if seed.tags & {"corpus", "either", "claims-large"} or (command == "compress" and "alpha" in seed.tags):
        return None
    if command == "enhance" and "image" in seed.tags and "jpeg" not in seed.tags:
        return None  # a picture that is no JPEG: refused, or enhanced blind (a decode whose file is gone)
    if command == "info" and "claims-huge" in seed.tags:
        return None  # the header alone may be described
    return NEEDS[command] in seed.tags


def photo(height: int = 24, width: int = 40) -> np.ndarray:
    """A small crop of scikit-image's astronaut, textured enough for every codec to work."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut()[100 : 100 + height, 180 : 180 + width])


def pillow(image: np.ndarray | Image.Image, file_format: str, **options: object) -> bytes:
    """``image`` encoded by Pillow."""
    picture = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buffer = io.BytesIO()
    picture.save(buffer, file_format, **options)
    return buffer.getvalue()


def exif(**tags: object) -> bytes:
    """EXIF bytes with the given tags (by number, written as ``t0112=6``)."""
    found = Image.Exif()
    for key, value in tags.items():
        found[int(key[1:], 16)] = value
    return found.tobytes()


def with_payload(data: bytes, donor: bytes, payload: bytes) -> bytes:
    """A plain JPEG given ``donor``'s payload segment, holding ``payload``, after its JFIF header."""
    spot = payload_spot(donor)
    assert spot is not None  # the donor is a jpegplus JPEG
    edited = replace_payload(donor, spot, payload)
    segment = edited[spot.part.start : spot.part.end + len(payload) - (spot.end - spot.start)]
    at = 2 + 2 + struct.unpack_from(">H", data, 4)[0] if data[2:4] == b"\xff\xe0" else 2
    return data[:at] + segment + data[at:]


def png_claiming(width: int, height: int) -> bytes:
    """A 60-byte PNG whose header claims ``width`` × ``height`` (its pixel data is a few zero rows)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def plain_seeds() -> dict[str, tuple[bytes, set[str]]]:
    """Plain files of every kind, not made by jpegplus."""
    rgb, gray = photo(), photo()[:, :, 1].copy()
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    icc = fixed_date(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    deep = (gray.astype(np.uint16) * 257).astype(np.uint16)
    frames = [Image.fromarray(rgb), Image.fromarray(rgb[::-1].copy())]
    image, jpeg, alpha = {"image"}, {"image", "jpeg"}, {"image", "alpha"}
    seeds: dict[str, tuple[bytes, set[str]]] = {
        "plain-rgb.png": (pillow(rgb, "PNG"), image),
        "plain-gray.png": (pillow(gray, "PNG"), image),
        "plain-rgba.png": (pillow(rgba, "PNG"), alpha),
        "plain-la.png": (pillow(Image.fromarray(rgba).convert("LA"), "PNG"), alpha),
        "plain-palette.png": (pillow(Image.fromarray(rgb).convert("P"), "PNG", transparency=0), alpha),
        "plain-bilevel.png": (pillow(Image.fromarray(gray).convert("1"), "PNG"), image),
        "plain-16bit-gray.png": (pillow(deep, "PNG"), image),
        "plain-16bit-rgb.tif": (pillow(Image.fromarray(deep).convert("I"), "TIFF"), image),
        "plain-float.tif": (pillow(gray.astype(np.float32) / 255, "TIFF"), {"image", "either"}),
        "plain-1x1.png": (pillow(rgb[:1, :1], "PNG"), image),
        "plain-1x37.png": (pillow(photo(1, 37), "PNG"), image),
        "plain-37x1.png": (pillow(photo(37, 1), "PNG"), image),
        "plain-exif-70kb.png": (pillow(rgb, "PNG", exif=exif(t010e="x" * 70_000)), {"image", "either"}),
        "plain-exif-garbage.png": (pillow(rgb, "PNG", exif=b"Exif\0\0not a tiff header"), {"image", "either"}),
        "plain-icc-garbage.png": (pillow(rgb, "PNG", icc_profile=b"not an ICC profile" * 8), {"image", "either"}),
        "plain-animated.png": (pillow(frames[0], "PNG", save_all=True, append_images=frames[1:]), image),
        "plain.gif": (pillow(frames[0], "GIF", save_all=True, append_images=frames[1:]), image),
        "plain.bmp": (pillow(rgb, "BMP"), image),
        "plain.ppm": (pillow(rgb, "PPM"), image),
        "plain-multipage.tif": (pillow(frames[0], "TIFF", save_all=True, append_images=frames[1:]), image),
        "plain.ico": (pillow(rgb, "ICO"), image),
        "plain-q20.jpg": (pillow(rgb, "JPEG", quality=20), jpeg),
        "plain-gray.jpg": (pillow(gray, "JPEG", quality=40), jpeg),
        "plain-1x1.jpg": (pillow(rgb[:1, :1], "JPEG", quality=50), jpeg),
        "plain-1x37.jpg": (pillow(photo(1, 37), "JPEG", quality=50), jpeg),
        "plain-444.jpg": (pillow(rgb, "JPEG", quality=30, subsampling=0), jpeg),
        "plain-422.jpg": (pillow(rgb, "JPEG", quality=30, subsampling=1), jpeg),
        "plain-cmyk.jpg": (pillow(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=50), jpeg),
        "plain-progressive.jpg": (pillow(rgb, "JPEG", quality=30, progressive=True), jpeg),
        "plain-rotated.jpg": (pillow(rgb, "JPEG", quality=30, exif=exif(t0112=6)), jpeg),
        "plain-icc.jpg": (pillow(rgb, "JPEG", quality=30, icc_profile=icc), jpeg),
        "plain-restart-markers.jpg": (pillow(rgb, "JPEG", quality=30, restart_marker_blocks=1), jpeg),
        "plain.webp": (pillow(rgb, "WEBP", quality=30), image),
        "plain-lossless-alpha.webp": (pillow(rgba, "WEBP", lossless=True), alpha),
        "plain-animated.webp": (pillow(frames[0], "WEBP", save_all=True, append_images=frames[1:]), image),
        "plain.avif": (pillow(rgb, "AVIF", quality=30), image),
        "plain.jp2": (pillow(rgb, "JPEG2000"), image),
        "plain-16bit.jp2": (pillow(deep, "JPEG2000"), image),
        "plain-codestream.j2k": (pillow(rgb, "JPEG2000", no_jp2=True), image),
    }
    return seeds


def fixed_date(icc: bytes) -> bytes:
    """An ICC profile with a fixed creation date (LittleCMS writes the clock's) and no profile ID (its MD5),
    so the seeds, and the cases made from them, are the same on every run."""
    header = bytearray(icc)
    header[24:36] = struct.pack(">6H", 2020, 1, 1, 0, 0, 0)
    header[84:100] = bytes(16)
    return bytes(header)


def hostile_seeds() -> dict[str, tuple[bytes, set[str]]]:
    """Tiny files claiming huge sizes, and files that are no image at all."""
    rgb = photo()
    claims = {"claims-huge"}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(zipfile.ZipInfo("a.txt", date_time=(2020, 1, 1, 0, 0, 0)), "not an image")  # seeded: no clock
    return {
        "bomb-png-30000x30000.png": (png_claiming(30000, 30000), claims),
        "bomb-png-12000x12000.png": (png_claiming(12000, 12000), claims),
        "bomb-jpeg-60000x60000.jpg": (with_claimed_size(pillow(rgb, "JPEG"), 60000, 60000), claims),
        "bomb-jpeg-10000x9000.jpg": (with_claimed_size(pillow(rgb, "JPEG"), 10000, 9000), {"claims-large"}),
        "bomb-webp-16383x16383.webp": (
            with_claimed_size(pillow(rgb, "WEBP", exif=exif(t0112=1)), 16383, 16383),
            claims,
        ),
        "bomb-avif-65535x65535.avif": (with_claimed_size(pillow(rgb, "AVIF"), 65535, 65535), claims),
        "bomb-jp2-60000x60000.jp2": (with_claimed_size(pillow(rgb, "JPEG2000"), 60000, 60000), claims),
        "bomb-ppm-99999x99999.ppm": (b"P6\n99999 99999\n255\n" + bytes(300), claims),
        "bomb-gif-65535x65535.gif": (b"GIF89a\xff\xff\xff\xff\x00\x00\x00" + bytes(40) + b";", claims),
        "empty.jpg": (b"", set()),
        "text.png": (b"this is not an image\n" * 3, set()),
        "html.jpg": (b"<!doctype html><html><body>404</body></html>\n", set()),
        "archive.zip": (archive.getvalue(), set()),
        "random.webp": (np.random.default_rng(0).bytes(2000), set()),
        "magic-only.jpg": (b"\xff\xd8\xff", set()),
        "magic-only.webp": (b"RIFF\x04\x00\x00\x00WEBP", set()),
        "magic-only.jp2": (b"\x00\x00\x00\x0cjP  \r\n\x87\n", set()),
    }


def jpegplus_seeds(refused: list[str]) -> dict[str, tuple[bytes, set[str]]]:
    """Files made by the jpegplus under test: every codec in both stored modes, and odd ones.

    A valid image that the jpegplus under test refuses is named in ``refused`` instead.
    """
    import jpegplus

    rgb, gray = photo(), photo(17, 33)[:, :, 0].copy()
    recipes: dict[str, Callable[[], bytes]] = {}
    for codec, extension in (("jpeg", "jpg"), ("webp", "webp"), ("avif", "avif"), ("jpeg2000", "jp2")):
        for mode in ("full", "downsample"):
            recipes[f"jpegplus-{codec}-{mode}.{extension}"] = lambda c=codec, m=mode: jpegplus.compress(
                rgb, codec=c, mode=m, quality=40
            )
        recipes[f"jpegplus-{codec}-1x1.{extension}"] = lambda c=codec: jpegplus.compress(
            rgb[:1, :1], codec=c, mode="full"
        )
    recipes["jpegplus-jpeg-gray-downsample.jpg"] = lambda: jpegplus.compress(gray, mode="downsample", quality=30)
    recipes["jpegplus-webp-gray-full.webp"] = lambda: jpegplus.compress(gray, codec="webp", mode="full", quality=30)
    recipes["jpegplus-jpeg-1x37-downsample.jpg"] = lambda: jpegplus.compress(photo(1, 37), mode="downsample")
    recipes["jpegplus-jpeg-exif-icc.jpg"] = lambda: jpegplus.compress(
        Image.open(io.BytesIO(plain_seeds()["plain-rotated.jpg"][0])), mode="full"
    )
    seeds = {}
    for name, recipe in recipes.items():
        try:
            seeds[name] = (recipe(), {"jpegplus", "image"} | ({"jpeg"} if name.endswith(".jpg") else set()))
        except jpegplus.JpegPlusError as error:
            refused.append(f"{name}: {error}")
    fields = payload_fields(seeds["jpegplus-jpeg-full.jpg"][0])
    if fields is None:
        msg = "the jpegplus under test wrote no payload the fuzzer reads (did the file format change?)"
        raise RuntimeError(msg)
    made = seeds["jpegplus-jpeg-full.jpg"][0]
    spot = payload_spot(made)
    assert spot is not None  # payload_fields found it
    seeds["jpegplus-jpeg-format1.jpg"] = (
        replace_payload(made, spot, ascii_payload(fields)),
        {"jpegplus", "image", "jpeg"},
    )
    return seeds


def heavy_seeds(downsample_jpeg: bytes, names: Collection[str]) -> dict[str, tuple[bytes, set[str]]]:
    """Small files that ask for real multi-megapixel work (issue #18, item 8), flat so they stay small.

    ``names``: which of :data:`HEAVY` to build (encoding them takes seconds).
    """
    fields = payload_fields(downsample_jpeg) or {}

    def claiming(side: int) -> bytes:
        stored = pillow(np.full(((side + 1) // 2, (side + 1) // 2, 3), 120, np.uint8), "JPEG", quality=75)
        return with_payload(stored, downsample_jpeg, write_binary({**fields, "width": side, "height": side}))

    recipes: dict[str, Callable[[], bytes]] = {
        "heavy-jpegplus-claims-4000x4000.jpg": lambda: claiming(4000),
        "heavy-jpegplus-claims-14142x14142.jpg": lambda: claiming(14142),
        "heavy-flat-progressive-9000x9000.jpg": lambda: pillow(
            np.full((9000, 9000), 120, np.uint8), "JPEG", quality=75, progressive=True
        ),
    }
    return {name: (recipe(), {"heavy"}) for name, recipe in recipes.items() if name in names}


HEAVY = (
    "heavy-jpegplus-claims-4000x4000.jpg",
    "heavy-jpegplus-claims-14142x14142.jpg",
    "heavy-flat-progressive-9000x9000.jpg",
)


@dataclass(frozen=True)
class SeedSet:
    """The seeds, and the valid images the jpegplus under test refused while making them."""

    seeds: list[Seed]
    refused: list[str]


def build_seeds(*, heavy: Collection[str] = (), corpus: Path | None = None) -> SeedSet:
    """Every seed, in a fixed order; ``heavy``: the heavy seeds to add (names in :data:`HEAVY`);
    ``corpus``: also the committed reproducers in that folder."""
    refused: list[str] = []
    found = {**plain_seeds(), **hostile_seeds(), **jpegplus_seeds(refused)}
    found.update(heavy_seeds(found["jpegplus-jpeg-downsample.jpg"][0], heavy))
    if corpus is not None:
        for path in sorted(corpus.iterdir()):
            if path.suffix not in (".json", ".md"):  # the manifest and README are no seeds
                found[f"corpus-{path.name}"] = (path.read_bytes(), {"corpus"})
    return SeedSet([Seed(name, data, frozenset(tags)) for name, (data, tags) in found.items()], refused)


def write_seeds(seeds: SeedSet, folder: Path) -> None:
    """Save seeds as files plus an index of their tags and the refusals."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds.seeds:
        (folder / seed.name).write_bytes(seed.data)
    index = {"tags": {seed.name: sorted(seed.tags) for seed in seeds.seeds}, "refused": seeds.refused}
    (folder / INDEX).write_text(json.dumps(index, indent=1) + "\n")


def read_seeds(folder: Path) -> SeedSet:
    """Seeds saved by :func:`write_seeds`."""
    index = json.loads((folder / INDEX).read_text())
    seeds = [Seed(name, (folder / name).read_bytes(), frozenset(tags)) for name, tags in index["tags"].items()]
    return SeedSet(seeds, index["refused"])
