"""JPEG through Pillow (libjpeg-turbo): baseline, Huffman-optimised, 4:2:0 like the reference."""

from __future__ import annotations

import struct
from typing import Any

from jpegplus.codecs.boxes import JPEGPLUS_UUID, box, read_boxes
from jpegplus.codecs.pillow_codec import PillowCodec
from jpegplus.codecs.registry import CodecName, register_codec
from jpegplus.quantization import restoration_tables

APP11 = 0xEB
SEGMENT_BODY_LIMIT = 65533  # a segment's 16-bit length counts itself
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
JUMBF_COMMON_ID = b"JP"  # APP11 segments of JPEG systems (ISO/IEC 19566-5) open with "JP", instance, sequence
JUMBF_INSTANCE, JUMBF_SEQUENCE = 1, 1
JUMBF_LABEL = b"jpegplus\0"
REQUESTABLE_AND_LABELLED = 0x03  # description box toggles
LEGACY_IDENTIFIER = b"JPEGPLUS\0"  # the bare APP11 segment of earlier jpegplus files, still read


@register_codec(CodecName.JPEG)
class JpegCodec(PillowCodec):
    """JPEG; ``quality`` is libjpeg's 1–100 scale of the standard tables.

    The jpegplus payload travels in an APP11 segment as a valid JUMBF box (ISO/IEC 19566-5, the
    container JPEG systems define for that marker): a superbox labelled ``jpegplus`` whose
    description carries jpegplus's UUID as content type and whose binary-data box holds the
    payload. 62 bytes of framing; ExifTool validates it and lists it as "Jpegplus Data".
    JPEG carries no alpha; EXIF and XMP are limited to one 64 KB APP1 segment each.
    """

    extension = ".jpg"
    pillow_format = "JPEG"
    carries_alpha = False
    shows_exif_orientation = True
    exif_limit = SEGMENT_BODY_LIMIT  # "Exif\0\0" included, as Pillow holds it
    xmp_limit = SEGMENT_BODY_LIMIT - len(XMP_HEADER)

    def save_options(self, quality: int, mode: str, restoration: bool) -> dict[str, Any]:
        """Standard tables of ``quality``, or for restoration the flatter tables on the same scale."""
        options: dict[str, Any] = {"optimize": True, "subsampling": "4:2:0"}
        if not restoration:
            return {"quality": quality, **options}
        luma, chroma = restoration_tables(quality)
        tables = [luma] if mode == "L" else [luma, chroma]
        return {"qtables": [table.astype(int).tolist() for table in tables], **options}

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Insert the payload's APP11 JUMBF segment after the leading APP segments (JFIF, EXIF, ICC)."""
        description = box(b"jumd", JPEGPLUS_UUID + bytes([REQUESTABLE_AND_LABELLED]) + JUMBF_LABEL)
        superbox = box(b"jumb", description + box(b"bidb", payload))
        segment = JUMBF_COMMON_ID + struct.pack(">HI", JUMBF_INSTANCE, JUMBF_SEQUENCE) + superbox
        marker = struct.pack(">BBH", 0xFF, APP11, len(segment) + 2) + segment
        offset = _after_leading_app_segments(data)
        return data[:offset] + marker + data[offset:]

    def find_payload(self, data: bytes) -> bytes | None:
        """The payload of the first jpegplus APP11 segment (JUMBF, or the bare form of older files), or ``None``."""
        for kind, body in _segments(data):
            if kind != APP11:
                continue
            if body.startswith(LEGACY_IDENTIFIER):
                return body[len(LEGACY_IDENTIFIER) :]
            if body.startswith(JUMBF_COMMON_ID):
                found = _jumbf_payload(body[8:])
                if found is not None:
                    return found
        return None


def _jumbf_payload(boxes: bytes) -> bytes | None:
    """The binary-data box of a JUMBF superbox whose description names jpegplus's UUID, or ``None``."""
    for kind, body in read_boxes(boxes):
        if kind != b"jumb":
            continue
        inner = read_boxes(body)
        if inner and inner[0][0] == b"jumd" and inner[0][1].startswith(JPEGPLUS_UUID):
            return next((content for kind, content in inner[1:] if kind == b"bidb"), None)
    return None


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of the header segments up to the first scan."""
    found, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        kind = data[offset + 1]
        if kind == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        found.append((kind, data[offset + 4 : offset + 2 + length]))
        offset += 2 + length
    return found


def _after_leading_app_segments(data: bytes) -> int:
    """Offset just past SOI and the APPn segments (JFIF, EXIF, ICC) that open the file."""
    offset = 2
    for kind, body in _segments(data):
        if not 0xE0 <= kind <= 0xEF:
            break
        offset += 4 + len(body)
    return offset
