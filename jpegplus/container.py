"""jpegplus metadata inside standard files.

The metadata is a short ASCII payload, ``v=1;w=768;h=512;c=3;m=downsample;k=jpeg;q=50;id=NAME@SHA8``,
that each codec adapter stores where its format has room: a JPEG APP11 segment, an XMP packet
in WebP, a trailing ``uuid`` box in JP2 and AVIF. ``serialise``/``parse`` convert; ``extract`` finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from jpegplus.codecs import list_codecs
from jpegplus.codecs.pillow_codec import open_image
from jpegplus.codecs.registry import get_codec
from jpegplus.errors import MetadataError

FORMAT_VERSION = 1
MAX_PIXELS = 200_000_000
MAX_PAYLOAD = 1024
STORED_MODES = ("downsample", "full")  # "auto" resolves to one of these before anything is written
KEYS = {"version": "v", "width": "w", "height": "h", "channels": "c", "mode": "m", "codec": "k", "quality": "q",
        "model": "id"}  # fmt: skip


@dataclass(frozen=True)
class Metadata:
    """What decompress needs besides the codec's own data."""

    width: int
    height: int
    channels: int
    mode: str
    codec: str
    quality: int
    model: str
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.version != FORMAT_VERSION:
            msg = f"unsupported jpegplus format version {self.version} (this jpegplus reads {FORMAT_VERSION})"
            raise MetadataError(msg)
        if not (0 < self.width and 0 < self.height and self.width * self.height <= MAX_PIXELS):
            msg = f"implausible original size {self.width}x{self.height} in jpegplus metadata"
            raise MetadataError(msg)
        if self.channels not in (1, 3):
            msg = f"jpegplus metadata claims {self.channels} channels; only 1 or 3 are valid"
            raise MetadataError(msg)
        if self.mode not in STORED_MODES:
            msg = f"jpegplus metadata names mode {self.mode!r}; files store one of {', '.join(STORED_MODES)}"
            raise MetadataError(msg)
        if self.codec not in list_codecs():
            msg = f"jpegplus metadata names unknown codec {self.codec!r}"
            raise MetadataError(msg)

    @property
    def stored_size(self) -> tuple[int, int]:
        """(width, height) of the image the codec holds: half size (rounded up) in downsample mode."""
        if self.mode == "downsample":
            return (self.width + 1) // 2, (self.height + 1) // 2
        return self.width, self.height


def serialise(metadata: Metadata) -> bytes:
    """The compact ASCII payload."""
    return ";".join(f"{KEYS[f.name]}={getattr(metadata, f.name)}" for f in fields(metadata)).encode("ascii")


def parse(payload: bytes) -> Metadata:
    """Metadata from a payload, validated."""
    if len(payload) > MAX_PAYLOAD:
        msg = "jpegplus metadata is too long"
        raise MetadataError(msg)
    text = payload.decode("ascii", "replace")
    values = dict(item.partition("=")[::2] for item in text.split(";") if item)
    names = {short: name for name, short in KEYS.items()}
    missing = sorted(name for short, name in names.items() if short not in values)
    if missing:
        msg = f"jpegplus metadata lacks {', '.join(missing)}"
        raise MetadataError(msg)
    numeric = {"version", "width", "height", "channels", "quality"}
    try:
        parsed = {name: int(values[s]) if name in numeric else values[s] for s, name in names.items()}
    except ValueError:
        msg = "jpegplus metadata holds a non-numeric size, channel count, quality or version"
        raise MetadataError(msg) from None
    return Metadata(**parsed)


def extract(data: bytes) -> Metadata | None:
    """The jpegplus metadata of an encoded file of any supported codec, or ``None`` for a plain file."""
    picture_format = open_image(data, load=False).format
    for name in list_codecs():
        codec = get_codec(name)
        if codec.pillow_format == picture_format:
            payload = codec.read_payload(data)
            return parse(payload) if payload is not None else None
    return None
