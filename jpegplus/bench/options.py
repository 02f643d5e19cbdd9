"""``jpegplus bench``'s comma-separated options, parsed into the typed values of ``BenchConfig``.

Light to import (no torch): the command line parses with these before the benchmark is loaded.
"""

from __future__ import annotations

from typing import NewType

from jpegplus.codecs.registry import CodecName
from jpegplus.errors import InvalidOptionError
from jpegplus.modes import Mode, Tune, parse_mode, parse_tune
from jpegplus.options import parse_codec

# the parsed options (a plain tuple annotation reads as arity to the command line)
Codecs = NewType("Codecs", tuple[CodecName, ...])
Modes = NewType("Modes", tuple[Mode, ...])
Qualities = NewType("Qualities", tuple[int, ...])
Tunes = NewType("Tunes", tuple[Tune, ...])

DEFAULT_CODECS = Codecs((CodecName.JPEG,))
DEFAULT_MODES = Modes((Mode.DOWNSAMPLE, Mode.FULL))
DEFAULT_QUALITIES = Qualities((5, 10, 20, 30, 40, 50, 60, 75, 90, 95))
DEFAULT_TUNES = Tunes((Tune.PSNR,))


def comma_separated(text: str) -> list[str]:
    """The non-empty items of ``"a, b,,c"``, stripped: ``["a", "b", "c"]``."""
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_codecs(text: str) -> Codecs:
    """``"jpeg,WebP"`` → the codecs, in order."""
    return Codecs(tuple(parse_codec(name) for name in comma_separated(text)))


def parse_modes(text: str) -> Modes:
    """``"downsample,full"`` → the modes, in order; ``""`` → none (only plain codecs)."""
    return Modes(tuple(parse_mode(name) for name in comma_separated(text)))


def parse_tunes(text: str) -> Tunes:
    """``"psnr,ms-ssim"`` → the metrics auto is tuned for, one curve each, in order."""
    tunes = Tunes(tuple(parse_tune(name) for name in comma_separated(text)))
    if not tunes:
        msg = "--tunes needs at least one of: " + ", ".join(t.value for t in Tune)
        raise InvalidOptionError(msg)
    return tunes


def parse_qualities(text: str) -> Qualities:
    """``"50,20"`` → the quality grid, ascending."""
    try:
        return Qualities(tuple(sorted(int(item) for item in comma_separated(text))))
    except ValueError:
        msg = f"qualities must be integers, got {text!r}"
        raise InvalidOptionError(msg) from None
