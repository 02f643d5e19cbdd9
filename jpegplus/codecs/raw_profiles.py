"""ImageMagick's raw-profile text chunks in PNG: ``Raw profile type exif``, ``xmp`` and ``iptc``.

PNG long had no place for EXIF or IPTC; ImageMagick (and ExifTool after it) keeps such metadata hex-encoded in
text chunks of these keys, and ImageMagick 6 still writes EXIF there when it makes a PNG of a JPEG. jpegplus
reads the EXIF and XMP ones where the PNG has no field of its own (as Pillow's ``getexif`` does), and keeps a
JPEG's IPTC there: Photoshop's image resource blocks (IRB) of its APP13 segments, which ExifTool reads back
and which return into an APP13 segment when that PNG becomes a JPEG.
"""

from __future__ import annotations

import struct

from jpegplus.codecs.jpeg.markers import SEGMENT_BODY_LIMIT

RAW_PROFILE_KEYS = {kind: f"Raw profile type {kind}" for kind in ("exif", "xmp", "iptc")}
RAW_IPTC_KEY = RAW_PROFILE_KEYS["iptc"]
PHOTOSHOP = b"Photoshop 3.0\0"  # how an APP13 segment's body opens
APP13 = 0xED
IPTC_RESOURCE = 0x0404  # the IRB resource holding IPTC-IIM records
IIM_TAG_MARKER = 0x1C  # how each IPTC-IIM record opens
HEX_LINE = 72  # hex digits per line, as ImageMagick and ExifTool write them


def profile_data(text: str) -> bytes | None:
    """The bytes a raw-profile text holds (a name line, the byte count, hex lines); ``None`` when it is not one."""
    lines = text.strip().split("\n")
    try:
        length = int(lines[1])
        data = bytes.fromhex("".join(lines[2:]))
    except (IndexError, ValueError):
        return None
    return data if data and length == len(data) else None


def segments_irb(segments: tuple[bytes, ...]) -> bytes:
    """The IRB that ``segments``' APP13 segments (whole, marker included) hold, empty without any."""
    return b"".join(segment[4 + len(PHOTOSHOP) :] for segment in segments if is_iptc_segment(segment))


def iptc_profile(segments: tuple[bytes, ...]) -> str | None:
    """The raw-profile text of the IRB that ``segments``' APP13 segments hold; ``None`` without any."""
    irb = segments_irb(segments)
    if not irb:
        return None
    digits = irb.hex()
    lines = "\n".join(digits[start : start + HEX_LINE] for start in range(0, len(digits), HEX_LINE))
    return f"\nIPTC profile\n{len(irb):8d}\n{lines}\n"


def iptc_irb(text: str) -> bytes | None:
    """The IRB a ``Raw profile type iptc`` text holds (IPTC-IIM records alone are put in one); ``None`` when the
    text is not such a profile."""
    data = profile_data(text)
    return records_irb(data) if data and data[0] == IIM_TAG_MARKER else data


def records_irb(records: bytes) -> bytes:
    """An IRB of one resource holding IPTC-IIM ``records``."""
    padding = b"\0" * (len(records) % 2)
    return b"8BIM" + struct.pack(">HHI", IPTC_RESOURCE, 0, len(records)) + records + padding


def irb_records(irb: bytes) -> bytes | None:
    """The IPTC-IIM records of an IRB's IPTC resource, or ``None`` without one (or in a malformed IRB)."""
    position = 0
    while irb[position : position + 4] == b"8BIM" and position + 12 <= len(irb):
        resource, name_length = struct.unpack_from(">HB", irb, position + 4)
        size_at = position + 7 + name_length + (name_length + 1) % 2  # a Pascal name padded to an even length
        (size,) = struct.unpack_from(">I", irb, size_at) if size_at + 4 <= len(irb) else (len(irb),)
        if resource == IPTC_RESOURCE:
            return irb[size_at + 4 : size_at + 4 + size] or None
        position = size_at + 4 + size + size % 2
    return None


def iptc_segment(text: str) -> bytes | None:
    """The APP13 segment holding a ``Raw profile type iptc`` text's IRB; ``None`` when the text is not such a
    profile or the IRB is larger than one segment holds."""
    irb = iptc_irb(text)
    return None if irb is None else irb_segment(irb)


def irb_segment(irb: bytes) -> bytes | None:
    """The APP13 segment holding ``irb``; ``None`` when it is larger than one segment holds."""
    body = PHOTOSHOP + irb
    return struct.pack(">BBH", 0xFF, APP13, len(body) + 2) + body if len(body) <= SEGMENT_BODY_LIMIT else None


def is_iptc_segment(segment: bytes) -> bool:
    """Whether a whole JPEG segment is Photoshop's APP13."""
    return segment[1] == APP13 and segment[4:].startswith(PHOTOSHOP)
