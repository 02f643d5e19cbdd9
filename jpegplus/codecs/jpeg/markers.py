"""Walking a JPEG's header segments (SOI up to the first scan), as libjpeg does, for checks before decoding and
to carry the metadata segments of a file over to its re-coded version."""

from __future__ import annotations

from collections.abc import Iterator

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
METADATA_MARKERS = frozenset(range(0xE0, 0xF0)) | {COM}  # APP0-APP15 (JFIF, EXIF, ICC, XMP, ...) and comments
ARITHMETIC_FRAMES = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}  # SOF9-SOF11, SOF13-SOF15
FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7} | ARITHMETIC_FRAMES  # SOF0-SOF15 (0xC4, 0xC8, 0xCC are not)


def header_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(marker, start, end)`` of each header segment, ending with the first SOS (``end``: its header's end).

    Bytes between segments are skipped, as libjpeg skips them ("extraneous bytes before marker").
    Stops early where the header is broken (a length past the end, a standalone marker, EOI before
    any scan): a caller that needs the scan checks that the last segment is SOS.
    """
    if data[:2] != bytes((0xFF, SOI)):
        return
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF or data[position + 1] in (0x00, 0xFF):  # not a marker: garbage or fill
            position += 1
            continue
        marker = data[position + 1]
        if marker in (SOI, EOI) or 0xD0 <= marker <= 0xD7:
            return
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2 or position + 2 + length > len(data):
            return
        yield marker, position, position + 2 + length
        if marker == SOS:
            return
        position += 2 + length


def sample_precision(data: bytes) -> int | None:
    """The bits per sample a JPEG's frame header declares (8, or 12 and 16 in the extended and lossless
    processes), or ``None`` without a readable frame header."""
    for marker, start, stop in header_segments(data):
        if marker in FRAMES and stop > start + 4:
            return data[start + 4]
    return None


def smallest_scan_bytes(data: bytes, width: int, height: int) -> int:
    """The fewest bytes that can code a ``width`` × ``height`` JPEG's scans with Huffman codes: 0 for arithmetic.

    Every 8×8 block of the first component codes its DC coefficient in at least one bit (the
    shortest Huffman code), in baseline and progressive files alike; a smaller file is a header
    claiming a size its data does not have, which libjpeg would fill with gray at full cost.
    Arithmetic coding can code a flat image in almost nothing, so it gets no bound.
    """
    if any(marker in ARITHMETIC_FRAMES for marker, _, _ in header_segments(data)):
        return 0
    return -(-width // 8) * -(-height // 8) // 8


def metadata_end(data: bytes) -> int:
    """Offset just past SOI and the APPn and COM segments that open the file (JFIF, EXIF, ICC, XMP, comments)."""
    end = 2
    for marker, _, stop in header_segments(data):
        if marker not in METADATA_MARKERS:
            break
        end = stop
    return end


def with_metadata_of(source: bytes, recoded: bytes) -> bytes:
    """``recoded``, a JPEG that libjpeg wrote again from ``source``'s image or coefficients, opening with
    ``source``'s own metadata segments (its JFIF density, EXIF, ICC, XMP and comments) instead of libjpeg's."""
    return source[: metadata_end(source)] + recoded[metadata_end(recoded) :]


def with_segments(data: bytes, segments: tuple[bytes, ...]) -> bytes:
    """``data`` with whole metadata ``segments`` (marker and length included) after those that open it."""
    end = metadata_end(data)
    return data[:end] + b"".join(segments) + data[end:]
