"""Walking a JPEG's segments (its header, SOI up to the first scan, or every scan header), as libjpeg does, for
checks before decoding and to carry the metadata segments of a file over to its re-coded version."""

from __future__ import annotations

from collections.abc import Iterator

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
METADATA_MARKERS = frozenset(range(0xE0, 0xF0)) | {COM}  # APP0-APP15 (JFIF, EXIF, ICC, XMP, ...) and comments
ARITHMETIC_FRAMES = {0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}  # SOF9-SOF11, SOF13-SOF15
SEGMENT_BODY_LIMIT = 65533  # a segment's 16-bit length counts itself
APP14 = 0xEE
ADOBE_LENGTH = 14  # an APP14 "Adobe" segment: its transform byte says whether three components are YCbCr or RGB
FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7} | ARITHMETIC_FRAMES  # SOF0-SOF15 (0xC4, 0xC8, 0xCC are not)


def header_segments(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(marker, start, end)`` of each header segment, ending with the first SOS (``end``: its header's end).

    Bytes between segments are skipped, as libjpeg skips them ("extraneous bytes before marker").
    Stops early where the header is broken (a length past the end, a standalone marker, EOI before
    any scan): a caller that needs the scan checks that the last segment is SOS.
    """
    for marker, start, end in _segments(data, in_scans=False):
        yield marker, start, end
        if marker == SOS:
            return


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


def scans_finish_every_coefficient(data: bytes) -> bool:
    """Whether the file's scan headers, wherever they are, bring every coefficient of every component of its
    frame to full precision (a scan with successive-approximation bit ``Al`` 0 covers it): true of a whole
    baseline or progressive file, false of one cut between two scans, which libjpeg decodes without a word."""
    components: set[int] = set()
    finished: dict[int, set[int]] = {}
    for marker, start, stop in _segments(data, in_scans=True):
        if marker in FRAMES and stop > start + 10:
            components = {data[start + 10 + 3 * i] for i in range(data[start + 9]) if start + 12 + 3 * i < stop}
        elif marker == SOS and stop > start + 5:
            count = data[start + 4]
            spectral = start + 5 + 2 * count
            if spectral + 3 > stop:
                continue
            first, last, approximation = data[spectral], data[spectral + 1], data[spectral + 2]
            if approximation & 0x0F == 0:
                for i in range(count):
                    finished.setdefault(data[start + 5 + 2 * i], set()).update(range(first, last + 1))
    return bool(components) and all(finished.get(component, set()) >= set(range(64)) for component in components)


def _segments(data: bytes, *, in_scans: bool) -> Iterator[tuple[int, int, int]]:
    """``(marker, start, end)`` of the segments of a file that opens with SOI, skipping bytes that are not a
    marker; stops at EOI or where a length breaks. ``in_scans`` walks on through entropy-coded data, where
    0xFF is followed by a stuffed zero or a restart marker, and yields the EOI that ends it; without it a restart
    marker (or SOI) ends the walk."""
    if data[:2] != bytes((0xFF, SOI)):
        return
    position = 2
    while position + 2 <= len(data):
        marker = data[position + 1] if data[position] == 0xFF else 0x00
        if marker in (0x00, 0xFF) or (in_scans and 0xD0 <= marker <= 0xD7):
            position = data.find(0xFF, position + 1)
            if position < 0:
                return
            continue
        if marker in (SOI, EOI) or 0xD0 <= marker <= 0xD7:
            if in_scans and marker == EOI:
                yield marker, position, position + 2
            return
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2 or position + 2 + length > len(data):
            return
        yield marker, position, position + 2 + length
        position += 2 + length


def image_end(data: bytes) -> int | None:
    """Offset just past the EOI that ends the file's first image (what follows is not part of it), or ``None``."""
    return next((end for marker, _, end in _segments(data, in_scans=True) if marker == EOI), None)


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


def coefficient_stream(data: bytes) -> bytes | None:
    """``data`` without its APPn and COM segments, or ``None`` when its header does not parse up to the scan.

    jpeglib saves and copies every APPn segment itself, and a malformed one (an APP0 that claims
    length 2, then EXIF) kills the process with a bus error; the coefficients need none of them, except
    Adobe's APP14 colour transform, which is kept in its standard 14-byte form.
    """
    kept = bytearray(data[:2])
    for marker, start, end in header_segments(data):
        segment = data[start:end]
        if marker == SOS:
            return bytes(kept + data[start:])
        if marker not in METADATA_MARKERS:
            kept += segment
        elif marker == APP14 and len(segment) >= 2 + ADOBE_LENGTH and segment[4:9] == b"Adobe":
            kept += segment[:2] + ADOBE_LENGTH.to_bytes(2, "big") + segment[4 : 2 + ADOBE_LENGTH]
    return None
