"""Keep a restored JPEG consistent with its file: luma DCT coefficients inside their quantization cells.

A JPEG proves, for every 8×8 luma block, that each DCT coefficient of the original lay within
half a quantization step of the stored integer times the step. A network's output can stray
outside those cells; clamping the coefficients of its luma back into (slightly narrowed)
cells moves it toward what the file allows, which on held-out training photos gains about
0.015 dB at every quality::

    restored RGB ─ Y ─ blockwise DCT ─ clamp to (k ± MARGIN)·q ─ inverse DCT ─ ΔY added to R, G and B
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jpeglib
import numpy as np
import torch
from torch.nn import functional as F

from jpegplus.codecs.jpeg.markers import SOS, header_segments
from jpegplus.stderr import captured_stderr

log = logging.getLogger(__name__)

BLOCK = 8
MARGIN = 0.4  # of a step: the cell's centre is likelier than its edges (chosen on held-out training photos)
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # JFIF's RGB → Y
LUMA_SPACES = ("JCS_YCbCr", "JCS_GRAYSCALE")  # colour spaces whose first component is JFIF luma
STRIP_ROWS = 64  # block rows per step: bounded memory for any image height


def _dct_matrix() -> torch.Tensor:
    """The orthonormal 8-point DCT-II; JPEG's 2-D transform applies it along rows and columns."""
    k = np.arange(BLOCK)
    matrix = np.sqrt(2.0 / BLOCK) * np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / (2 * BLOCK))
    matrix[0] /= np.sqrt(2.0)
    return torch.from_numpy(matrix.astype(np.float32))


DCT = _dct_matrix()


@dataclass(frozen=True)
class LumaCells:
    """The quantized luma coefficients of a JPEG, (8, 8, rows, cols), and its luma table (8, 8, 1, 1)."""

    coefficients: torch.Tensor
    table: torch.Tensor

    @classmethod
    def read(cls, data: bytes) -> LumaCells | None:
        """The luma component of a YCbCr or gray JPEG (baseline or progressive).

        ``None`` where the cells do not bound the image's pixels one to one: CMYK or RGB files, luma
        sampled coarser than chroma, or a file libjpeg cannot read whole (its messages go to the log).
        """
        stream = coefficient_stream(data)
        if stream is None:
            log.info("the JPEG's header segments cannot be walked; its luma is not projected")
            return None
        with tempfile.TemporaryDirectory() as folder, captured_stderr() as messages:
            path = Path(folder) / "in.jpg"
            path.write_bytes(stream)
            try:
                jpeg = jpeglib.read_dct(str(path))  # the header only: the coefficients are read on first use
                usable = jpeg.jpeg_color_space.name in LUMA_SPACES
                usable = usable and np.array_equal(jpeg.samp_factor[0], np.max(jpeg.samp_factor, axis=0))
                coefficients, table = (jpeg.Y, jpeg.qt[jpeg.quant_tbl_no[0]]) if usable else (None, None)
            except (OSError, RuntimeError, ValueError, IndexError):
                coefficients = table = None
        if messages.getvalue():
            log.info("libjpeg on the coefficients: %s", " / ".join(messages.getvalue().split("\n")).strip(" /"))
        if coefficients is None or table is None:
            return None
        per_frequency = np.ascontiguousarray(coefficients.transpose(2, 3, 0, 1))  # int16, as stored
        return cls(torch.from_numpy(per_frequency), torch.from_numpy(table.astype(np.float32)[:, :, None, None]))


APP14 = 0xEE
SKIPPED_SEGMENTS = {*range(0xE0, 0xF0), 0xFE}  # APP0-APP15 and COM: metadata, none of it about coefficients
ADOBE_LENGTH = 14  # an APP14 "Adobe" segment: its transform byte says whether three components are YCbCr or RGB


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
        if marker not in SKIPPED_SEGMENTS:
            kept += segment
        elif marker == APP14 and len(segment) >= 2 + ADOBE_LENGTH and segment[4:9] == b"Adobe":
            kept += segment[:2] + ADOBE_LENGTH.to_bytes(2, "big") + segment[4 : 2 + ADOBE_LENGTH]
    return None


def project(
    image: torch.Tensor, cells: LumaCells | None, margin: float = MARGIN, *, first_row: int = 0
) -> torch.Tensor:
    """``image`` (1, 3 or 1, H, W) in [0, 1] with its luma clamped into ``cells``, in strips of block rows.

    ``cells`` of ``None`` (a JPEG without luma) returns ``image`` unchanged. ``image`` may be a band of
    the picture whose first row is ``first_row`` (a multiple of 8).
    """
    if cells is None:
        return image
    assert first_row % BLOCK == 0, first_row
    height, width = image.shape[2:]
    first_block = first_row // BLOCK
    cells = LumaCells(cells.coefficients[:, :, first_block : first_block + -(-height // BLOCK)], cells.table)
    rows, cols = cells.coefficients.shape[2:]
    weights = torch.tensor(LUMA_WEIGHTS if image.shape[1] == 3 else (1.0,)).view(1, -1, 1, 1)
    out = image.clone()
    for top in range(0, rows, STRIP_ROWS):
        bottom = min(top + STRIP_ROWS, rows)
        strip = image[:, :, top * BLOCK : bottom * BLOCK]
        luma = (strip.float() * weights).sum(dim=1, keepdim=True) * 255.0 - 128.0
        pad_h, pad_w = (bottom - top) * BLOCK - luma.shape[2], max(cols * BLOCK - width, 0)
        luma = F.pad(luma, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else luma
        blocks = luma[0, 0, :, : cols * BLOCK].reshape(bottom - top, BLOCK, cols, BLOCK)
        spectrum = torch.einsum("ux,rxcy,vy->uvrc", DCT, blocks, DCT)
        stored = cells.coefficients[:, :, top:bottom].float()
        low, high = (stored - margin) * cells.table, (stored + margin) * cells.table
        change = torch.minimum(torch.maximum(spectrum, low), high) - spectrum
        delta = torch.einsum("ux,uvrc,vy->rxcy", DCT, change, DCT).reshape(-1, cols * BLOCK)
        out[:, :, top * BLOCK : bottom * BLOCK] += delta[: strip.shape[2], :width] / 255.0
    return out.clamp_(0.0, 1.0)
