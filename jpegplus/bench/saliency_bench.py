"""Saliency-guided JPEG against uniform JPEG at equal file size: salient-region PSNR and MS-SSIM."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from rich.progress import track

from jpegplus.bench.metrics import ms_ssim
from jpegplus.bench.report import centre_crop
from jpegplus.bench.runner import dataset_images
from jpegplus.codecs import get_codec
from jpegplus.regionquant import encode_salient
from jpegplus.saliency import saliency_map

SIZE_TOLERANCE = 0.02
SHOWN = 256  # side-by-side pictures are centre crops: the evaluation images are never copied whole
QUALITY_STEPS = (4, 8, 12, 16, 24)  # how much finer the salient blocks are than the uniform quality
MS_SSIM_BUDGET = 0.004  # the encoder (which has the original) keeps the MS-SSIM loss below this


def masked_psnr(reference: np.ndarray, test: np.ndarray, mask: np.ndarray) -> float:
    """PSNR over the pixels where ``mask`` is true."""
    error = (reference.astype(np.float64) - test.astype(np.float64))[mask]
    return float(10 * np.log10(255.0**2 / max(np.mean(error**2), 1e-12)))


def salient_at_size(image: np.ndarray, saliency: np.ndarray, size: int, quality: int, mask: np.ndarray) -> bytes | None:
    """The salient JPEG within 2% below ``size`` with the best salient PSNR inside the MS-SSIM budget.

    The encoder has the original, so it measures its own candidates (one per start quality).
    """
    uniform_ms_ssim = ms_ssim(image, _decode(get_codec("jpeg").encode(image, quality)))
    chosen, chosen_psnr = None, -np.inf
    for step in QUALITY_STEPS:
        fine = min(quality + step, 95)
        low, high, best = 0.0, 30.0, None
        for _ in range(12):  # bisection on the widest dead zone: size falls as it grows
            threshold = (low + high) / 2
            data = encode_salient(image, fine, saliency, max_threshold=threshold)
            if len(data) <= size:
                best, high = data, threshold
            else:
                low = threshold
        if best is None or len(best) < size * (1 - SIZE_TOLERANCE):
            continue
        decoded = _decode(best)
        if uniform_ms_ssim - ms_ssim(image, decoded) > MS_SSIM_BUDGET:
            break  # finer starts only coarsen the background further
        if masked_psnr(image, decoded, mask) > chosen_psnr:
            chosen, chosen_psnr = best, masked_psnr(image, decoded, mask)
    return chosen


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def run_saliency_bench(dataset: Path, out: Path, qualities: tuple[int, ...], limit: int | None) -> dict:
    """Per image and quality: sizes, salient-25% PSNR and MS-SSIM of uniform and salient JPEG."""
    rows = []
    for path in track(dataset_images(dataset, limit), description="saliency"):
        image = np.asarray(Image.open(path).convert("RGB"))
        saliency = saliency_map(image)
        mask = saliency >= np.quantile(saliency, 0.75)
        if not rows:
            Image.fromarray(centre_crop((saliency * 255).astype(np.uint8), SHOWN)).save(out / "saliency_crop.png")
        for quality in qualities:
            uniform = get_codec("jpeg").encode(image, quality)
            salient = salient_at_size(image, saliency, len(uniform), quality, mask)
            if salient is None:
                continue
            decoded = {"uniform": _decode(uniform), "salient": _decode(salient)}
            rows.append({
                "image": path.name, "quality": quality,
                "uniform_bytes": len(uniform), "salient_bytes": len(salient),
                **{f"{n}_salient_psnr": masked_psnr(image, d, mask) for n, d in decoded.items()},
                **{f"{n}_ms_ssim": ms_ssim(image, d) for n, d in decoded.items()},
            })  # fmt: skip
            if len(rows) <= len(qualities):
                crops = [
                    centre_crop(image, SHOWN),
                    centre_crop(decoded["uniform"], SHOWN),
                    centre_crop(decoded["salient"], SHOWN),
                ]
                side_by_side = np.concatenate(crops, axis=1)  # original | uniform | salient
                Image.fromarray(side_by_side).save(out / f"side_by_side_q{quality}.png")
    summary = {}
    for quality in qualities:
        group = [r for r in rows if r["quality"] == quality]
        summary[str(quality)] = {
            "images": len(group),
            "size_ratio": float(np.mean([r["salient_bytes"] / r["uniform_bytes"] for r in group])),
            "salient_psnr_gain_db": float(
                np.mean([r["salient_salient_psnr"] - r["uniform_salient_psnr"] for r in group])
            ),
            "ms_ssim_change": float(np.mean([r["salient_ms_ssim"] - r["uniform_ms_ssim"] for r in group])),
        }
    return {"summary": summary, "rows": rows}
