"""The compress modes, and the metric auto's choice between them maximises."""

from __future__ import annotations

import enum
from typing import TypeVar

from jpegplus.errors import InvalidOptionError


class Mode(str, enum.Enum):
    """How compress uses the codec."""

    AUTO = "auto"  # per image and rate, whichever of the two below reconstructs better for the bytes
    DOWNSAMPLE = "downsample"  # ComCNN half-resolution compact image; upsampled and repaired by a network
    FULL = "full"  # the codec holds the full-resolution image; a network repairs it


def parse_mode(mode: str | Mode) -> Mode:
    """Validate a mode name."""
    return _named(Mode, mode, "mode")


class Tune(str, enum.Enum):
    """What auto's choice between the half- and full-resolution paths maximises (with half size allowed)."""

    PSNR = "psnr"
    # MS-SSIM weighs coarse structure, which the half-resolution path keeps: on Kodak it beats full mode up
    # to about 1 bpp in MS-SSIM against 0.13 bpp in PSNR (benchmarks/kodak), so auto tries both at every rate
    MS_SSIM = "ms-ssim"


def parse_tune(tune: str | Tune) -> Tune:
    """Validate a tune name."""
    return _named(Tune, tune, "tune")


Named = TypeVar("Named", Mode, Tune)


def _named(kind: type[Named], name: str | Named, noun: str) -> Named:
    try:
        return kind(name)
    except ValueError:
        msg = f"unknown {noun} {name!r}; known {noun}s: {', '.join(member.value for member in kind)}"
        raise InvalidOptionError(msg) from None
