"""Print what jpegplus gained on one image against plain JPEG at the same file size."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from jpegplus.bench.search import plain_jpeg_at_size
from jpegplus.metrics import psnr


def main(original: str, packed: str, restored: str) -> None:
    """Compare the jpegplus result with plain JPEG of the closest size not above it."""
    reference = np.asarray(Image.open(original).convert("RGB"))
    size = Path(packed).stat().st_size
    pixels = reference.shape[0] * reference.shape[1]
    plain, plain_size = plain_jpeg_at_size(reference, size)
    restored_pixels = np.asarray(Image.open(restored))
    print(f"jpegplus: {size} bytes ({size * 8 / pixels:.3f} bpp), PSNR {psnr(reference, restored_pixels):.2f} dB")
    print(f"plain JPEG: {plain_size} bytes ({plain_size * 8 / pixels:.3f} bpp), PSNR {psnr(reference, plain):.2f} dB")


if __name__ == "__main__":
    main(*sys.argv[1:4])
