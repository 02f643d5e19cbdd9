"""IPTC between a JPEG's APP13 segments and a PNG's ``Raw profile type iptc`` text chunk.

A JPEG keeps IPTC (captions, keywords, credits) in Photoshop's image resource blocks (IRB) inside APP13
segments. PNG has no standard place for it; ImageMagick and ExifTool keep the same IRB, hex-encoded, in a text
chunk of that key (ExifTool reads and writes it there), so a JPEG's IPTC survives a PNG output and comes back
into an APP13 segment when that PNG becomes a JPEG.
"""

from __future__ import annotations

import struct

from jpegplus.codecs.jpeg.markers import SEGMENT_BODY_LIMIT

RAW_IPTC_KEY = "Raw profile type iptc"
PHOTOSHOP = b"Photoshop 3.0\0"  # how an APP13 segment's body opens
APP13 = 0xED
IPTC_RESOURCE = 0x0404  # the IRB resource holding IPTC-IIM records
IIM_TAG_MARKER = 0x1C  # how each IPTC-IIM record opens
HEX_LINE = 72  # hex digits per line, as ImageMagick and ExifTool write them


def profile_text(segments: tuple[bytes, ...]) -> str | None:
    """The PNG text of the IRB that ``segments``' APP13 segments (whole, marker included) hold; ``None`` without."""
    irb = b"".join(segment[4 + len(PHOTOSHOP) :] for segment in segments if is_iptc_segment(segment))
    if not irb:
        return None
    digits = irb.hex()
    lines = "\n".join(digits[start : start + HEX_LINE] for start in range(0, len(digits), HEX_LINE))
    return f"\nIPTC profile\n{len(irb):8d}\n{lines}\n"


def profile_irb(text: str) -> bytes | None:
    """The IRB a ``Raw profile type iptc`` text holds (IPTC-IIM records alone are put in one); ``None`` when the
    text is not such a profile."""
    lines = text.strip().split("\n")
    try:
        length = int(lines[1])
        data = bytes.fromhex("".join(lines[2:]))
    except (IndexError, ValueError):
        return None
    if length != len(data) or not data:
        return None
    if data[0] == IIM_TAG_MARKER:
        padding = b"\0" * (len(data) % 2)
        data = b"8BIM" + struct.pack(">HHI", IPTC_RESOURCE, 0, len(data)) + data + padding
    return data


def profile_segment(text: str) -> bytes | None:
    """The APP13 segment holding a ``Raw profile type iptc`` text's IRB; ``None`` when the text is not such a
    profile or the IRB is larger than one segment holds."""
    irb = profile_irb(text)
    if irb is None:
        return None
    body = PHOTOSHOP + irb
    if len(body) > SEGMENT_BODY_LIMIT:
        return None
    return struct.pack(">BBH", 0xFF, APP13, len(body) + 2) + body


def is_iptc_segment(segment: bytes) -> bool:
    """Whether a whole JPEG segment is Photoshop's APP13."""
    return segment[1] == APP13 and segment[4:].startswith(PHOTOSHOP)
