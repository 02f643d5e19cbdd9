"""ICC, EXIF, XMP, IPTC and the pixel density inside JP2 files, the boxes Pillow's JPEG 2000 plugin does not write.

The ICC profile replaces the enumerated colour space in the header's ``colr`` box (method 2,
restricted ICC); EXIF, XMP and IPTC ride in top-level ``uuid`` boxes after the header, with the UUIDs
ExifTool and Adobe's XMP specification use, so other tools find them. The density is the header's capture
resolution (``res `` holding ``resc``, which Pillow reads back as ``dpi``).
"""

from __future__ import annotations

import struct
from fractions import Fraction

from jpegplus.codecs.boxes import UUID_BOX, box, read_boxes
from jpegplus.codecs.exif import EXIF_PREFIX

EXIF_UUID = b"JpgTiffExif->JP2"
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
IPTC_UUID = bytes.fromhex("33c7a4d2b81d4723a0baf1a3e097ad38")  # ExifTool's box of bare IPTC-IIM records
HEADER_BOX, COLOUR_BOX = b"jp2h", b"colr"
RESOLUTION_BOX, CAPTURE_BOX = b"res ", b"resc"
METRES_PER_INCH = Fraction(254, 10000)
FIELD_MAX = 0xFFFF  # a resolution's numerator and denominator are 16-bit
ICC_METHOD = 2  # colr method 2: a restricted ICC profile follows (precedence and approximation 0)


def write_metadata(
    data: bytes,
    *,
    exif: bytes | None,
    icc: bytes | None,
    xmp: bytes | None,
    dpi: tuple[float, float] | None = None,
    iptc: bytes | None = None,
) -> bytes:
    """A JP2 file with ``icc`` and ``dpi`` in its header and ``exif``, ``xmp`` and ``iptc`` (IPTC-IIM records)
    boxes after it."""
    if not (exif or icc or xmp or dpi or iptc):
        return data
    out = []
    for kind, body in read_boxes(data):
        if kind != HEADER_BOX:
            out.append(box(kind, body))
            continue
        header = _with_icc(body, icc) if icc else body
        out.append(box(kind, header + box(RESOLUTION_BOX, box(CAPTURE_BOX, _resolution(dpi))) if dpi else header))
        if exif:
            out.append(box(UUID_BOX, EXIF_UUID + exif.removeprefix(EXIF_PREFIX)))
        if xmp:
            out.append(box(UUID_BOX, XMP_UUID + xmp))
        if iptc:
            out.append(box(UUID_BOX, IPTC_UUID + iptc))
    return b"".join(out)


def read_metadata(data: bytes) -> dict[str, bytes]:
    """``icc_profile``, ``exif`` (with the ``Exif\\0\\0`` prefix, as Pillow gives it), ``xmp`` and ``iptc`` (IPTC-IIM
    records) of a JP2 file."""
    found: dict[str, bytes] = {}
    for kind, body in read_boxes(data):
        if kind == HEADER_BOX:
            for inner, content in read_boxes(body):
                if inner == COLOUR_BOX and content[:1] == bytes([ICC_METHOD]) and len(content) > 3:
                    found.setdefault("icc_profile", content[3:])
        elif kind == UUID_BOX and body.startswith(EXIF_UUID):
            found.setdefault("exif", EXIF_PREFIX + body[len(EXIF_UUID) :].removeprefix(EXIF_PREFIX))
        elif kind == UUID_BOX and body.startswith(XMP_UUID):
            found.setdefault("xmp", body[len(XMP_UUID) :])
        elif kind == UUID_BOX and body.startswith(IPTC_UUID):
            found.setdefault("iptc", body[len(IPTC_UUID) :])
    return found


def _resolution(dpi: tuple[float, float]) -> bytes:
    """A ``resc`` box's body: vertical, then horizontal grid points per metre, each numerator / denominator
    times ten to an exponent (exact for whole and simple dpi: 300 dpi is 15000 / 127 × 10²)."""
    fields = [_per_metre(value) for value in (dpi[1], dpi[0])]
    (vn, vd, ve), (hn, hd, he) = fields
    return struct.pack(">HHHHbb", vn, vd, hn, hd, ve, he)


def _per_metre(dots_per_inch: float) -> tuple[int, int, int]:
    value = Fraction(dots_per_inch).limit_denominator(1000) / METRES_PER_INCH
    exponent = 0
    while (fraction := (value / 10**exponent).limit_denominator(FIELD_MAX)).numerator > FIELD_MAX:
        exponent += 1
    return fraction.numerator, fraction.denominator, exponent


def _with_icc(header: bytes, icc: bytes) -> bytes:
    """The header box's body with its (first) colour specification replaced by ``icc``."""
    inner = read_boxes(header)
    first = next((i for i, (kind, _) in enumerate(inner) if kind == COLOUR_BOX), len(inner))
    colour = box(COLOUR_BOX, bytes([ICC_METHOD, 0, 0]) + icc)
    kept = [box(kind, body) for i, (kind, body) in enumerate(inner) if kind != COLOUR_BOX or i < first]
    return b"".join(kept[:first]) + colour + b"".join(kept[first:])
