"""The compress modes and which weights serve each."""

from __future__ import annotations

import enum

from jpegplus.codecs import CodecName
from jpegplus.errors import InvalidOptionError


class Mode(str, enum.Enum):
    """How compress uses the codec."""

    AUTO = "auto"  # per image and rate, whichever of the two below reconstructs better for the bytes
    DOWNSAMPLE = "downsample"  # ComCNN half-resolution compact image; upsampled and repaired by a network
    FULL = "full"  # the codec holds the full-resolution image; a network repairs it


MODEL_KIND = {Mode.DOWNSAMPLE: "downsample", Mode.FULL: "artifacts"}


def fits(architecture: str, mode: Mode) -> bool:
    """Whether weights of ``architecture`` serve ``mode``: only the half-resolution path has a ComCNN."""
    return architecture.startswith("ComCNN+") == (mode is Mode.DOWNSAMPLE)


def parse_mode(mode: str | Mode) -> Mode:
    """Validate a mode name."""
    try:
        return Mode(mode)
    except ValueError:
        msg = f"unknown mode {mode!r}; known modes: {', '.join(m.value for m in Mode)}"
        raise InvalidOptionError(msg) from None


def model_name(codec: str, mode: Mode) -> str:
    """The weights for ``codec`` in ``mode``: the codec's own, else the JPEG model."""
    from jpegplus.weights import read_manifest  # torch: imported when a model is needed, not with the enum

    own = f"{codec}-{MODEL_KIND[mode]}"
    return own if own in read_manifest() else f"{CodecName.JPEG.value}-{MODEL_KIND[mode]}"


def enhance_model_name() -> str:
    """The post-filter for ordinary JPEGs: its own model where installed, else the JPEG artifact model."""
    from jpegplus.weights import read_manifest

    own = f"{CodecName.JPEG.value}-enhance"
    return own if own in read_manifest() else model_name(CodecName.JPEG.value, Mode.FULL)
