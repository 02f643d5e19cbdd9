"""The values the API fuzzer passes: for every keyword of compress / decompress / enhance, valid ones,
odd ones and wrong types, each marked with what the library must do with it.

A :class:`Value` is built from a Python expression, so the same text makes a fresh object for every
call and serves as the reproducer (``from fuzzing.values import *`` gives the names they use).
``valid``: ``True`` must be accepted, ``False`` must be refused with a ``JpegPlusError``, ``None``
may go either way (but never escape).
"""

from __future__ import annotations

import functools
import inspect
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from fuzzing.seeds import photo
from jpegplus import Mode
from jpegplus.codecs import CodecName


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only copy of ``array`` (the library must not write into a caller's pixels)."""
    array = array.copy()
    array.setflags(write=False)
    return array


def make_fifo(path: str) -> str:
    """Replace the file at ``path`` by a FIFO that nobody writes to (a read blocks until a writer comes)."""
    Path(path).unlink(missing_ok=True)
    os.mkfifo(path)
    return path


NAMESPACE: dict[str, Any] = {
    "np": np,
    "torch": torch,
    "Image": Image,
    "Path": Path,
    "io": io,
    "math": math,
    "photo": photo,
    "read_only": read_only,
    "make_fifo": make_fifo,
    "CodecName": CodecName,
    "Mode": Mode,
}


@dataclass(frozen=True)
class Value:
    """An argument built by ``expr``, which may use ``data`` (file content) and ``path`` (that content on disk).

    ``note`` says where ``data`` came from (a seed, a mutation); ``hostile`` values may block or read
    forever, so only the supervising worker passes them.
    """

    expr: str
    valid: bool | None
    data: bytes | None = None
    note: str = ""
    hostile: bool = False

    def make(self, path: str | None = None) -> Any:
        """A fresh object."""
        return eval(self.expr, {**NAMESPACE, "data": self.data, "path": path})  # noqa: S307  our own literals


def values(valid: Sequence[str], invalid: Sequence[str], either: Sequence[str] = ()) -> list[Value]:
    """Values from expressions grouped by what the library must do with them."""
    return [Value(e, True) for e in valid] + [Value(e, False) for e in invalid] + [Value(e, None) for e in either]


CODEC = values(
    ["'jpeg'", "'webp'", "'avif'", "'jpeg2000'", "CodecName.WEBP"],
    ["''", "'png'", "None", "0", "b'jpeg'", "['jpeg']", "object()", "'jpeg\\0'"],
    ["'JPEG'", "'Jpeg2000'", "'jpg'", "' jpeg'"],
)
QUALITY = values(
    ["1", "2", "50", "99", "100", "np.int64(40)", "np.uint8(80)"],
    ["0", "-1", "101", "10**30", "True", "False", "50.5", "math.nan", "math.inf", "'50'", "None", "[50]"],
    ["50.0", "np.float32(50)"],
)
MODE = values(
    ["'auto'", "'downsample'", "'full'", "Mode.FULL"],
    ["''", "'half'", "None", "0", "b'full'", "Mode"],
    ["'AUTO'", "'Full'"],
)
DEVICE = values(
    ["None", "'cpu'", "'auto'"],
    ["'bogus'", "'cuda'", "'cuda:0'", "'meta'", "'mps'", "''", "0", "-1", "'cpu:-1'", "3.5", "['cpu']"],
    ["torch.device('cpu')", "'cpu:0'", "'CPU'"],
)
TARGET_SIZE = values(
    ["None", "100_000", "10**9", "10**30", "np.int64(50_000)"],
    ["1", "0", "-5", "'40KB'", "True", "math.nan", "math.inf", "[1000]"],
    ["2000", "1.5", "60_000.0"],
)
TARGET_PSNR = values(
    ["None"],
    ["1e9", "math.nan", "math.inf", "'30'", "[30.0]"],
    ["30.0", "25", "0.0", "-1.0", "99.0", "np.float16(28)"],
)
STRENGTH = values(
    ["None", "1", "50", "100", "np.int32(30)"],
    ["0", "101", "50.5", "'50'", "True", "math.nan", "-3", "10**30"],
    ["50.0"],
)

MAX_PIXELS = values(
    ["100_000_000", "10**9", "np.int64(10**7)"],
    ["0", "-1", "1.5e8", "'100MP'", "True", "math.inf"],
    ["None", "1", "1000", "10**30"],
)
FLAG = values(["False", "True"], [], ["None", "'yes'", "1", "0", "np.bool_(True)"])
BACKGROUND = values(
    ["None", "'white'", "'#ff8000'", "(0, 0, 0)", "'rgb(10, 20, 30)'"],
    ["'notacolour'", "''", "5", "(256, 0, 0)", "(1, 2)", "(1.5, 2, 3)", "b'white'"],
    ["[0, 0, 0]", "'#fff'", "np.array([1, 2, 3])", "(True, 0, 0)"],
)

KEYWORDS: dict[str, dict[str, list[Value]]] = {
    "compress": {
        "codec": CODEC,
        "quality": QUALITY,
        "mode": MODE,
        "device": DEVICE,
        "target_size": TARGET_SIZE,
        "target_psnr": TARGET_PSNR,
        "saliency": FLAG,
        "background": BACKGROUND,
        "strip": FLAG,
        "allow_half_size": FLAG,
        "max_pixels": MAX_PIXELS,
    },
    "decompress": {"device": DEVICE, "max_pixels": MAX_PIXELS},
    "enhance": {"strength": STRENGTH, "device": DEVICE, "max_pixels": MAX_PIXELS},
}
"""Every keyword the fuzzer knows; a jpegplus without one of them is called without it."""


@functools.cache
def keywords_of(function: str) -> dict[str, list[Value]]:
    """The keywords of ``function`` that the jpegplus under test has."""
    import jpegplus

    accepted = inspect.signature(getattr(jpegplus, function)).parameters
    return {name: options for name, options in KEYWORDS[function].items() if name in accepted}


ARRAYS = values(
    [
        "photo()",
        "photo()[:, :, 0]",
        "photo()[::-1]",
        "photo()[:, ::3]",
        "photo()[:1, :1]",
        "photo(1, 37)",
        "photo(37, 1)",
        "photo(2, 2)[:, :, 1]",
        "np.asfortranarray(photo())",
        "read_only(photo())",
        "np.zeros((16, 16, 3), np.uint8)",
        "np.full((9, 9), 255, np.uint8)",
    ],
    [
        "np.zeros((0, 5, 3), np.uint8)",
        "np.zeros((5, 0), np.uint8)",
        "photo().astype(np.float32) / 255",
        "photo().astype(np.uint16)",
        "photo().astype(np.int64)",
        "photo() > 128",
        "photo()[None]",
        "np.array(5, np.uint8)",
        "np.zeros((4, 4, 3), object)",
        "photo().astype('>u2')",
        "photo()[:, :, :, None]",
        "np.zeros((4, 4, 3), [('a', np.uint8)])",
    ],
    [
        "photo()[:, :, :1]",
        "photo()[:, :, :2]",
        "np.zeros((70_000, 1, 3), np.uint8)",
        "photo().astype(np.float64)",
        "np.dstack([photo(), photo()[:, :, :1]])",
        "np.dstack([photo()[:, :, 0], photo()[:, :, 1]])",
    ],
)
PICTURES = values(
    [
        "Image.fromarray(photo())",
        "Image.new('RGB', (1, 1))",
        *(f"Image.fromarray(photo()).convert({m!r})" for m in ("L", "P", "1", "CMYK", "YCbCr", "I", "I;16", "RGBX")),
    ],
    ["Image.new('RGB', (0, 0))", "Image.new('L', (5, 0))"],
    [*(f"Image.fromarray(photo()).convert({m!r})" for m in ("RGBA", "LA", "PA", "HSV", "LAB", "F", "La"))],
)
PATHS = values(
    [],
    ["'/nonexistent/x.png'", "'.'", "'a\\0b.png'", "'x' * 5000", "'/dev/null'", "Path('/')", "''"],
)
HOSTILE_PATHS = [
    Value("'/dev/zero'", False, hostile=True),
    Value("'/dev/urandom'", False, hostile=True),
    Value("make_fifo(path)", False, data=b"", note="a FIFO nobody writes to", hostile=True),
]
OTHER_TYPES = values([], ["None", "5", "[[1, 2], [3, 4]]", "torch.zeros(3, 8, 8)", "{'a': 1}", "b''", "3.5"])
DATA_TYPES = values(
    [], ["None", "5", "b''", "torch.zeros(3)", "[b'\\xff\\xd8']", "3.5"], ["photo()", "Image.fromarray(photo())"]
)
