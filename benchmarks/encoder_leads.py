"""Encoder-side leads for full-mode JPEG, measured against what compress writes: BD-rate after the network
and for a plain viewer, on held-out training photos (never the evaluation sets).

Variants (same network, mozjpeg's lossless scan re-coding for all): ``shipped`` (what ``compress`` writes:
the restoration tables, 4:2:0, mozjpeg's trellis quantization of the AC and DC coefficients where the restoring
network was trained on it (``trellis_at`` of its manifest entry), nearest-step rounding above), ``rounded``
(Pillow's rounding at every quality), ``trellis-everywhere``, ``subsampling-444`` / ``subsampling-422``,
``chroma-F`` (the chroma table's steps times F), ``shape-S`` (Annex K's tables flattened with exponent S instead
of ``RESTORATION_SHAPE``) and ``masking-T`` (dead zones up to T table steps in the busiest blocks, the 30%
flattest left alone: adaptive quantization by texture masking, which SSIM's contrast term rewards); each as
shipped otherwise.

Run from the repository: ``python3 benchmarks/encoder_leads.py runs/heldout --out benchmarks/encoder-leads.md``
(``runs/heldout``: the 10 held-out photos, see ``weights/jpeg-artifacts.md``).
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from jpegplus.bench.bdrate import bd_rate
from jpegplus.codecs.jpeg.codec import JpegCodec, smallest_scans
from jpegplus.codecs.jpeg.quantization import RESTORATION_SHAPE, condition_from_picture, restoration_tables
from jpegplus.codecs.jpeg.regionquant import with_dead_zones
from jpegplus.codecs.jpeg.trellis import trellis_quantized
from jpegplus.encoder import full_mode_codec
from jpegplus.inference import restore_pixels
from jpegplus.metrics import ms_ssim, psnr
from jpegplus.modes import Mode
from jpegplus.weights import lighter, load_model, select, stand_in

QUALITIES = (5, 10, 20, 30, 50, 75)
Encoder = Callable[[np.ndarray, int], bytes]


def pillow(subsampling: str, chroma_scale: float = 1.0, shape: float = RESTORATION_SHAPE) -> Encoder:
    """Pillow (libjpeg-turbo) with the restoration tables of ``shape`` (chroma's steps times ``chroma_scale``),
    Huffman-optimised."""

    def encode(rgb: np.ndarray, quality: int) -> bytes:
        luma, chroma = restoration_tables(quality, shape)
        scaled = np.clip(np.round(chroma * chroma_scale), 1, 255)
        tables = [table.astype(int).tolist() for table in (luma, scaled)]
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", qtables=tables, optimize=True, subsampling=subsampling)
        return buffer.getvalue()

    return encode


def trellis(encode: Encoder, where: Callable[[int], bool] = lambda quality: True) -> Encoder:
    """``encode`` with its coefficients chosen again by mozjpeg's trellis at the qualities ``where`` says."""
    return lambda rgb, quality: trellis_quantized(encode(rgb, quality), rgb) if where(quality) else encode(rgb, quality)


def as_compress(quality: int) -> bool:
    """Whether compress quantizes a full-mode file of ``quality`` by trellis (its restoring network learned it)."""
    return full_mode_codec(JpegCodec(), select("jpeg", Mode.FULL), quality).trellis


def flatness(rgb: np.ndarray) -> np.ndarray:
    """Minus the local standard deviation of luma over 8×8 windows: low where texture masks errors."""
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean, square = cv2.blur(luma, (8, 8)), cv2.blur(luma * luma, (8, 8))
    return -np.sqrt(np.maximum(square - mean * mean, 0))


def masking(encode: Encoder, max_threshold: float) -> Encoder:
    """``encode`` with dead zones up to ``max_threshold`` table steps in the busiest blocks."""
    return lambda rgb, quality: with_dead_zones(encode(rgb, quality), flatness(rgb), max_threshold)


VARIANTS: dict[str, Encoder] = {
    "shipped": trellis(pillow("4:2:0"), as_compress),
    "rounded": pillow("4:2:0"),
    "trellis-everywhere": trellis(pillow("4:2:0")),
    "subsampling-444": trellis(pillow("4:4:4"), as_compress),
    "subsampling-422": trellis(pillow("4:2:2"), as_compress),
    "chroma-0.8": trellis(pillow("4:2:0", 0.8), as_compress),
    "chroma-1.25": trellis(pillow("4:2:0", 1.25), as_compress),
    "shape-0.65": trellis(pillow("4:2:0", shape=0.65), as_compress),
    "shape-0.8": trellis(pillow("4:2:0", shape=0.8), as_compress),
    "masking-0.75": masking(trellis(pillow("4:2:0"), as_compress), 0.75),
    "masking-1.5": masking(trellis(pillow("4:2:0"), as_compress), 1.5),
}


Curve = dict[str, list[float]]  # "bpp" and, per quality, "psnr", "ms-ssim" (after the network), "plain psnr"...


def curve(encode: Encoder, photos: list[np.ndarray]) -> Curve:
    """Rate and quality per quality, means over the photos (bits pooled), after the network and plain."""
    spec = select("jpeg", Mode.FULL)
    points: Curve = {key: [] for key in ("bpp", "psnr", "ms-ssim", "plain psnr", "plain ms-ssim")}
    for quality in QUALITIES:
        bits = pixels = 0
        scores: Curve = {key: [] for key in points if key != "bpp"}
        for rgb in photos:
            data = smallest_scans(encode(rgb, quality))
            with Image.open(io.BytesIO(data)) as picture:
                condition = condition_from_picture(picture)
                decoded = np.asarray(picture.convert("RGB"))
            assert condition is not None  # every variant writes tables
            net = load_model(lighter(spec, condition).name).reconstruct  # as decompress picks it
            out = restore_pixels(net, decoded, condition, torch.device("cpu"))
            for prefix, image in (("", out), ("plain ", decoded)):
                scores[f"{prefix}psnr"].append(psnr(rgb, image))
                scores[f"{prefix}ms-ssim"].append(ms_ssim(rgb, image))
            bits, pixels = bits + 8 * len(data), pixels + rgb.shape[0] * rgb.shape[1]
        points["bpp"].append(bits / pixels)
        for key, values in scores.items():
            points[key].append(float(np.mean(values)))
    return points


def networks() -> str:
    """The ids of the full-mode network and its stand-in the curves were measured with."""
    spec = select("jpeg", Mode.FULL)
    light = stand_in(spec)
    return " and ".join(f"`{entry.model_id}`" for entry in (spec, light) if entry is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names (shipped is implied)")
    arguments = parser.parse_args()
    names = ["shipped", *(name for name in arguments.variants.split(",") if name != "shipped")]
    photos = [np.asarray(Image.open(path).convert("RGB")) for path in sorted(arguments.photos.iterdir())]
    curves = {name: curve(VARIANTS[name], photos) for name in names}
    shipped = curves["shipped"]
    lines = [
        f"# Encoder leads ({len(photos)} photos of `{arguments.photos}`, qualities {', '.join(map(str, QUALITIES))})",
        "",
        "BD-rate against what compress writes (negative is better), after jpegplus's network and for a plain viewer",
        f"(networks {networks()}):",
        "",
        "| variant | PSNR with the network | MS-SSIM with the network | PSNR plain view | MS-SSIM plain view |",
        "|---|---|---|---|---|",
    ]
    for name, points in curves.items():
        rates = [
            bd_rate(shipped["bpp"], shipped[metric], points["bpp"], points[metric])
            for metric in ("psnr", "ms-ssim", "plain psnr", "plain ms-ssim")
        ]
        lines.append(f"| {name} | " + " | ".join(f"{rate:+.1f}%" for rate in rates) + " |")
    arguments.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
