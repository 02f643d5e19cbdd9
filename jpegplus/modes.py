"""The compress modes."""

from __future__ import annotations

import enum

from jpegplus.errors import InvalidOptionError


class Mode(str, enum.Enum):
    """How compress uses the codec."""

    AUTO = "auto"  # per image and rate, whichever of the two below reconstructs better for the bytes
    DOWNSAMPLE = "downsample"  # ComCNN half-resolution compact image; upsampled and repaired by a network
    FULL = "full"  # the codec holds the full-resolution image; a network repairs it


def parse_mode(mode: str | Mode) -> Mode:
    """Validate a mode name."""
    try:
        return Mode(mode)
    except ValueError:
        msg = f"unknown mode {mode!r}; known modes: {', '.join(m.value for m in Mode)}"
        raise InvalidOptionError(msg) from None
