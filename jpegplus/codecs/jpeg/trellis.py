"""Rate-distortion-optimised (trellis) quantization of a JPEG's coefficients by mozjpeg, keeping its tables,
sampling and metadata segments.

For each block, mozjpeg's trellis searches the quantized values (and where the block's run of zeros
ends) that minimise rate + λ·distortion under the file's Huffman code, instead of rounding each
coefficient to its nearest step; with ``TRELLIS_QUANT_DC`` the DC values too. The file stays a
standard JPEG with the same tables. Compress uses it where the restoring network was trained on it
(``benchmarks/encoder-leads.md``: rounding those files instead costs +3.7% BD-rate after the network and
+6.7% for a plain viewer on the 10 held-out training photos).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import jpeglib
import numpy as np

from jpegplus.codecs.jpeg.markers import with_metadata_of
from jpegplus.stderr import captured_stderr, one_line

log = logging.getLogger(__name__)

TRELLIS_CODER = "mozjpeg403"  # jpeglib's build of mozjpeg
TRELLIS_FLAGS = ["+TRELLIS_QUANT", "+TRELLIS_QUANT_DC", "+OPTIMIZE_CODING"]


def trellis_quantized(fine: bytes, pixels: np.ndarray) -> bytes:
    """``fine``, a JPEG of ``pixels`` (uint8 gray (H, W) or RGB (H, W, 3)), with every coefficient chosen again by
    mozjpeg's trellis under ``fine``'s own tables and chroma sampling, in the progressive scans mozjpeg picks
    for size; ``fine``'s metadata segments (JFIF density, EXIF, ICC, XMP, comments) open it as they opened
    ``fine``. Should libjpeg refuse, ``fine`` is returned (its messages go to the log)."""
    with tempfile.TemporaryDirectory() as folder, captured_stderr() as messages:
        source, chosen = Path(folder) / "fine.jpg", Path(folder) / "trellis.jpg"
        source.write_bytes(fine)
        try:
            with jpeglib.version(TRELLIS_CODER):
                jpeg = jpeglib.read_dct(str(source))
                spatial = jpeglib.from_spatial(np.ascontiguousarray(pixels.reshape(*pixels.shape[:2], -1)))
                spatial.samp_factor = jpeg.samp_factor
                spatial.write_spatial(str(chosen), qt=jpeg.qt, quant_tbl_no=jpeg.quant_tbl_no, flags=TRELLIS_FLAGS)
            result = with_metadata_of(fine, chosen.read_bytes())
        except (OSError, RuntimeError, ValueError):
            result = fine
    if messages.getvalue():
        log.info("mozjpeg's trellis quantization: %s", one_line(messages))
    return result


def cjpeg_default(image: np.ndarray, quality: int) -> bytes:
    """``image`` (uint8 gray or RGB) as mozjpeg's ``cjpeg -quality`` writes it: its own tables, trellis, progressive."""
    pixels = np.ascontiguousarray(image[:, :, None] if image.ndim == 2 else image)
    with tempfile.TemporaryDirectory() as folder, jpeglib.version(TRELLIS_CODER):
        path = Path(folder) / "cjpeg.jpg"
        jpeglib.from_spatial(pixels).write_spatial(str(path), qt=quality)
        return path.read_bytes()
