"""The jpegplus payload: what decompress needs, inside a standard file (``embed``/``extract``).

Format 2 is binary, 12 bytes plus the model name (about 26 in all: every byte of a small file
counts)::

    version=2 · flags (bit 0 downsample, bit 1 gray) · codec · quality · width, height (LEB128) · sha8 (4) · name

Format 1, still read, was ASCII: ``w=768;h=512;c=3;m=downsample;k=jpeg;q=50;id=NAME@SHA8;v=1``.
Each codec adapter stores the payload where its format has room: a JPEG APP11 segment, a RIFF
chunk in WebP, a trailing ``uuid`` box in JP2 and AVIF. ``embed`` puts it into an encoded file and
``extract`` reads it back; ``serialise``/``parse`` convert between :class:`Metadata` and the bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from PIL import Image

from jpegplus.codecs import Codec, list_codecs
from jpegplus.codecs.pillow_codec import format_name, open_image
from jpegplus.codecs.registry import get_codec
from jpegplus.errors import MetadataError

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MAX_PIXELS = 200_000_000
MAX_PAYLOAD = 1024
STORED_MODES = ("downsample", "full")  # "auto" resolves to one of these before anything is written
CODEC_CODES = ("jpeg", "webp", "jpeg2000", "avif")  # format 2's codec byte: append only, never reorder
DOWNSAMPLE_FLAG, GRAY_FLAG = 1, 2
ASCII_KEYS = {"version": "v", "width": "w", "height": "h", "channels": "c", "mode": "m", "codec": "k", "quality": "q",
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
        if self.version not in READABLE_VERSIONS:
            msg = f"unsupported jpegplus format version {self.version} (this jpegplus reads up to {FORMAT_VERSION})"
            raise MetadataError(msg)
        if not (0 < self.width and 0 < self.height and self.width * self.height <= MAX_PIXELS):
            msg = f"implausible original size {self.width}x{self.height} in jpegplus metadata"
            raise MetadataError(msg)
        if self.channels not in (1, 3):
            msg = f"jpegplus metadata claims {self.channels} channels; only 1 or 3 are valid"
            raise MetadataError(msg)
        if not 0 <= self.quality <= 100:
            msg = f"implausible quality {self.quality} in jpegplus metadata"
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
    """The compact binary payload (format 2)."""
    name, _, digest = metadata.model.partition("@")
    flags = (DOWNSAMPLE_FLAG if metadata.mode == "downsample" else 0) | (GRAY_FLAG if metadata.channels == 1 else 0)
    header = bytes([FORMAT_VERSION, flags, CODEC_CODES.index(metadata.codec), metadata.quality])
    size = _leb128(metadata.width) + _leb128(metadata.height)
    return header + size + bytes.fromhex(digest) + name.encode("ascii")


def parse(payload: bytes) -> Metadata:
    """Metadata from a payload of either format, validated."""
    if len(payload) > MAX_PAYLOAD:
        msg = "jpegplus metadata is too long"
        raise MetadataError(msg)
    if payload[:1] >= b" ":  # format 1 is printable ASCII; format 2 opens with its version byte
        return _parse_ascii(payload)
    try:
        version, flags, codec, quality = struct.unpack_from(">4B", payload)
        width, offset = _read_leb128(payload, 4)
        height, offset = _read_leb128(payload, offset)
        digest, name = payload[offset : offset + 4], payload[offset + 4 :].decode("ascii")
    except (struct.error, IndexError, UnicodeDecodeError):
        msg = "jpegplus metadata is truncated or garbled"
        raise MetadataError(msg) from None
    if len(digest) < 4 or not name:
        msg = "jpegplus metadata lacks its model"
        raise MetadataError(msg)
    return Metadata(
        width=width,
        height=height,
        channels=1 if flags & GRAY_FLAG else 3,
        mode="downsample" if flags & DOWNSAMPLE_FLAG else "full",
        codec=CODEC_CODES[codec] if codec < len(CODEC_CODES) else f"#{codec}",
        quality=quality,
        model=f"{name}@{digest.hex()}",
        version=version,
    )


def _parse_ascii(payload: bytes) -> Metadata:
    """Format 1: ``key=value`` pairs."""
    text = payload.decode("ascii", "replace")
    values = dict(item.partition("=")[::2] for item in text.split(";") if item)
    names = {short: name for name, short in ASCII_KEYS.items()}
    missing = sorted(name for short, name in names.items() if short not in values)
    if missing:
        msg = f"jpegplus metadata lacks {', '.join(missing)}"
        raise MetadataError(msg)
    text_of = {name: values[short] for short, name in names.items()}
    try:
        width, height, channels, quality, version = (
            int(text_of[name]) for name in ("width", "height", "channels", "quality", "version")
        )
    except ValueError:
        msg = "jpegplus metadata holds a non-numeric size, channel count, quality or version"
        raise MetadataError(msg) from None
    return Metadata(
        width=width,
        height=height,
        channels=channels,
        mode=text_of["mode"],
        codec=text_of["codec"],
        quality=quality,
        model=text_of["model"],
        version=version,
    )


def _leb128(value: int) -> bytes:
    """Unsigned LEB128: 7 bits per byte, low first (768 → 2 bytes)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_leb128(data: bytes, offset: int) -> tuple[int, int]:
    """(value, offset after it) of an unsigned LEB128 number of at most 5 bytes."""
    value = 0
    for shift in range(0, 35, 7):
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
    msg = "jpegplus metadata holds an overlong number"
    raise MetadataError(msg)


def embed(data: bytes, metadata: Metadata) -> bytes:
    """``data``, an encoded file of a supported codec, with the payload of ``metadata`` attached."""
    codec = _codec_of(open_image(data, load=False))
    if codec is None:
        msg = "jpegplus metadata goes into a file of a supported codec"
        raise MetadataError(msg)
    return codec.attach(data, serialise(metadata))


def extract(data: bytes) -> Metadata | None:
    """The jpegplus metadata of an encoded file of any supported codec, or ``None`` for a plain file."""
    picture = open_image(data, load=False)
    codec = _codec_of(picture)
    payload = codec.read_payload(data, picture) if codec is not None else None
    return parse(payload) if payload is not None else None


def _codec_of(picture: Image.Image) -> Codec | None:
    """The adapter of an opened file's format, or ``None`` for a format no codec writes."""
    return next((codec for codec in map(get_codec, list_codecs()) if codec.pillow_format == format_name(picture)), None)
