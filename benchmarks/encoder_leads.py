"""Encoder-side leads for full-mode JPEG, measured against what compress writes: BD-rate after the network
and for a plain viewer, on held-out training photos (never the evaluation sets).

Variants (same restoration tables, same network, mozjpeg's lossless scan re-coding for all):
``shipped`` (Pillow, 4:2:0: what ``compress`` writes), ``subsampling-444`` / ``subsampling-422``,
``mozjpeg`` (mozjpeg's encoder without trellis) and ``trellis`` (mozjpeg's trellis quantization of
AC and DC coefficients, its default rate-distortion trade-off).

Run from the repository: ``python3 benchmarks/encoder_leads.py runs/heldout --out benchmarks/encoder-leads.md``
(``runs/heldout``: the 10 held-out photos, see ``weights/jpeg-artifacts.md``).
"""

from __future__ import annotations

import argparse
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import jpeglib
import numpy as np
import torch
from PIL import Image

from jpegplus.bench.bdrate import bd_rate
from jpegplus.codecs.jpeg.codec import SCAN_CODER, smallest_scans
from jpegplus.codecs.jpeg.quantization import condition_from_picture, restoration_tables
from jpegplus.inference import restore_pixels
from jpegplus.metrics import psnr
from jpegplus.modes import Mode
from jpegplus.weights import lighter, load_model, select

QUALITIES = (5, 10, 20, 30, 50, 75)
Encoder = Callable[[np.ndarray, int], bytes]


def pillow(subsampling: str) -> Encoder:
    """Pillow (libjpeg-turbo) with the restoration tables, Huffman-optimised."""

    def encode(rgb: np.ndarray, quality: int) -> bytes:
        tables = [table.astype(int).tolist() for table in restoration_tables(quality)]
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", qtables=tables, optimize=True, subsampling=subsampling)
        return buffer.getvalue()

    return encode


def mozjpeg(trellis: bool) -> Encoder:
    """mozjpeg (jpeglib's build) with the tables Pillow writes for the restoration tables, 4:2:0."""
    sign = "+" if trellis else "-"
    flags = [f"{sign}TRELLIS_QUANT", f"{sign}TRELLIS_QUANT_DC", "+OPTIMIZE_CODING"]

    def encode(rgb: np.ndarray, quality: int) -> bytes:
        with Image.open(io.BytesIO(pillow("4:2:0")(rgb, quality))) as reference:
            tables = np.stack([np.asarray(reference.quantization[k]).reshape(8, 8) for k in (0, 1)])
        with tempfile.TemporaryDirectory() as folder, jpeglib.version(SCAN_CODER):
            image = jpeglib.from_spatial(np.ascontiguousarray(rgb))
            image.samp_factor = ((2, 2), (1, 1), (1, 1))
            path = Path(folder) / "out.jpg"
            image.write_spatial(str(path), qt=tables.astype(np.uint16), quant_tbl_no=np.array([0, 1, 1]), flags=flags)
            return path.read_bytes()

    return encode


VARIANTS: dict[str, Encoder] = {
    "shipped": pillow("4:2:0"),
    "subsampling-444": pillow("4:4:4"),
    "subsampling-422": pillow("4:2:2"),
    "mozjpeg": mozjpeg(trellis=False),
    "trellis": mozjpeg(trellis=True),
}


def curve(encode: Encoder, photos: list[np.ndarray]) -> tuple[list[float], list[float], list[float]]:
    """(bpp, network PSNR, plain-decode PSNR) per quality, means over the photos (bits pooled)."""
    spec = select("jpeg", Mode.FULL)
    rates, restored, plain = [], [], []
    for quality in QUALITIES:
        bits = pixels = 0
        gains, views = [], []
        for rgb in photos:
            data = smallest_scans(encode(rgb, quality))
            with Image.open(io.BytesIO(data)) as picture:
                condition = condition_from_picture(picture)
                decoded = np.asarray(picture.convert("RGB"))
            assert condition is not None  # every variant writes tables
            net = load_model(lighter(spec, condition).name).reconstruct  # as decompress picks it
            out = restore_pixels(net, decoded, condition, torch.device("cpu"))
            gains.append(psnr(rgb, out))
            views.append(psnr(rgb, decoded))
            bits, pixels = bits + 8 * len(data), pixels + rgb.shape[0] * rgb.shape[1]
        rates.append(bits / pixels)
        restored.append(float(np.mean(gains)))
        plain.append(float(np.mean(views)))
    return rates, restored, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args()
    photos = [np.asarray(Image.open(path).convert("RGB")) for path in sorted(arguments.photos.iterdir())]
    curves = {name: curve(encode, photos) for name, encode in VARIANTS.items()}
    rates, restored, plain = curves["shipped"]
    lines = [
        f"# Encoder leads ({len(photos)} photos of `{arguments.photos}`, qualities {', '.join(map(str, QUALITIES))})",
        "",
        "BD-rate against what compress writes (negative is better), after jpegplus's network and for a plain viewer:",
        "",
        "| variant | with the network | plain view |",
        "|---|---|---|",
    ]
    for name, (test_rates, test_restored, test_plain) in curves.items():
        with_network = bd_rate(rates, restored, test_rates, test_restored)
        viewer = bd_rate(rates, plain, test_rates, test_plain)
        lines.append(f"| {name} | {with_network:+.1f}% | {viewer:+.1f}% |")
    arguments.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
