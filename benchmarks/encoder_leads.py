"""Encoder-side leads for full-mode JPEG, measured against what compress writes: BD-rate after the network
and for a plain viewer, on held-out training photos (never the evaluation sets).

Variants (same restoration tables, same network, mozjpeg's lossless scan re-coding for all):
``shipped`` (what ``compress`` writes: 4:2:0, mozjpeg's trellis quantization of the AC and DC
coefficients where the restoring network was trained on it, i.e. below the slim network's range, nearest-step
rounding above), ``rounded`` (Pillow's rounding at every quality), ``trellis-everywhere`` and
``subsampling-444`` / ``subsampling-422`` (as shipped otherwise).

Run from the repository: ``python3 benchmarks/encoder_leads.py runs/heldout --out benchmarks/encoder-leads.md``
(``runs/heldout``: the 10 held-out photos, see ``weights/jpeg-artifacts.md``).
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from jpegplus.bench.bdrate import bd_rate
from jpegplus.codecs.jpeg.codec import JpegCodec, smallest_scans
from jpegplus.codecs.jpeg.quantization import condition_from_picture, restoration_tables
from jpegplus.codecs.jpeg.trellis import trellis_quantized
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


def trellis(encode: Encoder, where: Callable[[int], bool] = lambda quality: True) -> Encoder:
    """``encode`` with its coefficients chosen again by mozjpeg's trellis at the qualities ``where`` says."""
    return lambda rgb, quality: trellis_quantized(encode(rgb, quality), rgb) if where(quality) else encode(rgb, quality)


def as_compress(quality: int) -> bool:
    """Whether compress quantizes a full-mode file of ``quality`` by trellis (its restoring network learned it)."""
    return lighter(select("jpeg", Mode.FULL), JpegCodec().restoration_condition(quality)).trellis


VARIANTS: dict[str, Encoder] = {
    "shipped": trellis(pillow("4:2:0"), as_compress),
    "rounded": pillow("4:2:0"),
    "trellis-everywhere": trellis(pillow("4:2:0")),
    "subsampling-444": trellis(pillow("4:4:4"), as_compress),
    "subsampling-422": trellis(pillow("4:2:2"), as_compress),
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
