"""JPEG through Pillow (libjpeg-turbo): Huffman-optimised, 4:2:0 like the reference; full-mode files
trellis-quantized by mozjpeg, and jpegplus's own files re-coded progressive by mozjpeg when that is smaller."""

from __future__ import annotations

import copy
import logging
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jpeglib
import numpy as np
from PIL import Image

from jpegplus.codecs.boxes import JPEGPLUS_UUID, box, read_boxes
from jpegplus.codecs.jpeg.markers import (
    SEGMENT_BODY_LIMIT,
    header_segments,
    metadata_end,
    with_metadata_of,
    with_segments,
)
from jpegplus.codecs.jpeg.quantization import (
    condition_from_picture,
    condition_from_quality,
    condition_from_tables,
    restoration_tables,
)
from jpegplus.codecs.jpeg.trellis import trellis_quantized
from jpegplus.codecs.pillow_codec import COMMENT, PillowCodec
from jpegplus.codecs.registry import CodecName, register_codec
from jpegplus.stderr import captured_stderr, one_line

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing's own from Python 3.11

    from jpegplus.codecs.registry import CarriedMetadata

log = logging.getLogger(__name__)

APP11 = 0xEB
SOF2 = 0xC2  # start of a progressive frame
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
JUMBF_COMMON_ID = b"JP"  # APP11 segments of JPEG systems (ISO/IEC 19566-5) open with "JP", instance, sequence
JUMBF_INSTANCE, JUMBF_SEQUENCE = 1, 1
JUMBF_LABEL = b"jpegplus\0"
REQUESTABLE_AND_LABELLED = 0x03  # description box toggles
LEGACY_IDENTIFIER = b"JPEGPLUS\0"  # the bare APP11 segment of earlier jpegplus files, still read
BASELINE_420 = {"optimize": True, "subsampling": "4:2:0"}  # Huffman-optimised baseline, chroma halved both ways
SCAN_CODER = "mozjpeg403"  # jpeglib's build of mozjpeg: its transcoder picks a progressive scan script for size


@register_codec(CodecName.JPEG)
class JpegCodec(PillowCodec):
    """JPEG; ``quality`` is libjpeg's 1–100 scale of the standard tables.

    Capabilities: it encodes for restoration (flatter tables on the same scale), region-quantizes
    by saliency inside one standard file, reads the networks' condition from its tables, and its plain
    files are what :func:`jpegplus.enhance` restores.

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
    text_keys = frozenset({COMMENT})  # a COM segment
    holds_jpeg_segments = True
    holds_iptc = True
    enhanceable = True
    restoration = False  # whether this instance writes the restoration tables (:meth:`for_restoration`)
    trellis = False  # whether it chooses their coefficients by mozjpeg's trellis

    @property
    def max_threshold(self) -> float:
        """The default dead zone of the least salient blocks (``regionquant.MAX_THRESHOLD``)."""
        from jpegplus.codecs.jpeg.regionquant import MAX_THRESHOLD  # OpenCV: only when used

        return MAX_THRESHOLD

    def save_options(self, quality: int, mode: str) -> dict[str, Any]:
        """libjpeg's standard tables of ``quality``, or for restoration the flatter tables of
        :func:`restoration_tables` on the same scale (one table for gray)."""
        if not self.restoration:
            return {"quality": quality, **BASELINE_420}
        luma, chroma = restoration_tables(quality)
        tables = [luma] if mode == "L" else [luma, chroma]
        return {"qtables": [table.astype(int).tolist() for table in tables], **BASELINE_420}

    def encode(
        self, image: np.ndarray, quality: int, *, alpha: np.ndarray | None = None, **metadata: Unpack[CarriedMetadata]
    ) -> bytes:
        """:meth:`PillowCodec.encode`, then the source JPEG's IPTC and extended XMP segments after those Pillow wrote
        (the re-coding passes after it keep every opening segment)."""
        data = super().encode(image, quality, alpha=alpha, **metadata)
        segments = metadata.get("segments")
        return with_segments(data, segments) if segments else data

    def save(
        self, picture: Image.Image, options: dict[str, Any], *, exif: bytes | None, icc: bytes | None, xmp: bytes | None
    ) -> bytes:
        """Pillow's file; with :attr:`trellis` its coefficients chosen again by mozjpeg's trellis quantization
        (:func:`~jpegplus.codecs.jpeg.trellis.trellis_quantized`: the same tables, sampling and metadata)."""
        data = super().save(picture, options, exif=exif, icc=icc, xmp=xmp)
        return trellis_quantized(data, np.asarray(picture)) if self.trellis else data

    def for_restoration(self, *, trellis: bool = False) -> JpegCodec:
        """This codec writing the restoration tables (see :class:`~jpegplus.codecs.RestorationEncoder`), with
        ``trellis`` their coefficients chosen by mozjpeg's trellis quantization."""
        variant = copy.copy(self)
        variant.restoration, variant.trellis = True, trellis
        return variant

    def restoration_condition(self, quality: int) -> tuple[float, float]:
        """The condition of the restoration tables of ``quality``."""
        return condition_from_tables(*restoration_tables(quality))

    def encode_salient(
        self,
        image: np.ndarray,
        quality: int,
        saliency: np.ndarray,
        *,
        max_threshold: float | None = None,
        **metadata: Unpack[CarriedMetadata],
    ) -> bytes:
        """A baseline JPEG with this codec's tables of ``quality`` and per-block dead zones up to
        ``max_threshold`` table steps where ``saliency`` is low (:mod:`jpegplus.codecs.jpeg.regionquant`);
        EXIF, ICC, XMP, the pixel density and the comment are kept."""
        from jpegplus.codecs.jpeg.regionquant import with_dead_zones

        fine = self.encode(image, quality, **metadata)
        return with_dead_zones(fine, saliency, self.max_threshold if max_threshold is None else max_threshold)

    def condition(self, picture: Image.Image, quality: int) -> tuple[float, float]:
        """Read from the file's quantization tables (``quality`` serves a JPEG without them)."""
        return condition_from_picture(picture) or condition_from_quality(quality)

    def attach(self, data: bytes, payload: bytes) -> bytes:
        """Re-code the scans for size (:func:`smallest_scans`) and insert the payload's APP11 JUMBF segment
        after the metadata segments that open the file (JFIF, EXIF, ICC, XMP, comments): every jpegplus JPEG is
        written this way. A file already progressive came from mozjpeg (the trellis pass), which chose its scans
        for size already."""
        if not _progressive(data):
            data = smallest_scans(data)
        description = box(b"jumd", JPEGPLUS_UUID + bytes([REQUESTABLE_AND_LABELLED]) + JUMBF_LABEL)
        superbox = box(b"jumb", description + box(b"bidb", payload))
        segment = JUMBF_COMMON_ID + struct.pack(">HI", JUMBF_INSTANCE, JUMBF_SEQUENCE) + superbox
        marker = struct.pack(">BBH", 0xFF, APP11, len(segment) + 2) + segment
        offset = metadata_end(data)
        return data[:offset] + marker + data[offset:]

    def find_payload(self, picture: Image.Image, data: bytes) -> bytes | None:
        """The payload of the first jpegplus APP11 segment (JUMBF, or the bare form of older files), or ``None``;
        the segments are the ones Pillow read while opening ``picture``."""
        for kind, body in getattr(picture, "applist", []):
            found = segment_payload(kind, body)
            if found is not None:
                return found
        return None


def segment_payload(kind: str, body: bytes) -> bytes | None:
    """The jpegplus payload an APPn segment (Pillow's ``kind`` name and its ``body``) holds, or ``None``."""
    if kind != "APP11":
        return None
    if body.startswith(LEGACY_IDENTIFIER):
        return body[len(LEGACY_IDENTIFIER) :]
    return _jumbf_payload(body[8:]) if body.startswith(JUMBF_COMMON_ID) else None


def smallest_scans(data: bytes) -> bytes:
    """The same coefficients (the same pixels in every decoder) in mozjpeg's progressive coding, or ``data``
    when that is not smaller.

    mozjpeg's transcoder tries several scan scripts and keeps the smallest; its runs of empty blocks
    (EOBRUN) pay off most at low rates, where many blocks are empty. On 8 training photos with the
    restoration tables: -6.0% bytes at quality 3, -4.8% at 5, -2.2% at 10, -1.6% at 20, -2.3% at 40,
    -3.7% at 75, for 10-20 ms per 512x512 encode; libjpeg's default progressive script (Pillow's
    ``progressive=True``) measured +11% to -1%. ``data``'s metadata segments (JFIF density, EXIF, ICC, XMP,
    comments) open the result as they opened ``data``. Should libjpeg refuse, ``data`` is kept (its messages
    go to the log).
    """
    with tempfile.TemporaryDirectory() as folder, captured_stderr() as messages:
        source, target = Path(folder) / "in.jpg", Path(folder) / "out.jpg"
        source.write_bytes(data)
        try:
            with jpeglib.version(SCAN_CODER):
                jpeg = jpeglib.read_dct(str(source))
                jpeg.markers = []  # ``data``'s own segments open the result
                jpeg.write_dct(str(target))
            recoded = with_metadata_of(data, target.read_bytes())
        except (OSError, RuntimeError, ValueError):
            recoded = data
    if messages.getvalue():
        log.info("mozjpeg re-coding the scans: %s", one_line(messages))
    return recoded if len(recoded) < len(data) else data


def _jumbf_payload(boxes: bytes) -> bytes | None:
    """The binary-data box of a JUMBF superbox whose description names jpegplus's UUID, or ``None``."""
    for kind, body in read_boxes(boxes):
        if kind != b"jumb":
            continue
        inner = read_boxes(body)
        if inner and inner[0][0] == b"jumd" and inner[0][1].startswith(JPEGPLUS_UUID):
            return next((content for kind, content in inner[1:] if kind == b"bidb"), None)
    return None


def _progressive(data: bytes) -> bool:
    """Whether the frame header is progressive (SOF2)."""
    return any(marker == SOF2 for marker, _, _ in header_segments(data))
