"""Saliency-guided JPEG against uniform JPEG at equal file size: salient-region PSNR and MS-SSIM.

The salient files are what ``compress --saliency --target-size`` writes (full mode, so with the
restoration tables); a third file, the same without saliency ("tables"), shows how much of the
gain is the tables' and how much the saliency's.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from rich.progress import track

import jpegplus
from jpegplus.bench.report import centre_crop
from jpegplus.bench.runner import dataset_images
from jpegplus.codecs import get_codec
from jpegplus.metrics import ms_ssim, psnr
from jpegplus.saliency import saliency_map

SIZE_TOLERANCE = 0.02  # "equal file size": within 2% below the uniform JPEG
SHOWN = 256  # side-by-side pictures are centre crops: the evaluation images are never copied whole


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def run_saliency_bench(dataset: Path, out: Path, qualities: tuple[int, ...], limit: int | None) -> dict:
    """Per image and quality: sizes, salient-25% PSNR and MS-SSIM of three files of one size, decoded plainly.

    ``uniform`` is plain JPEG at the quality; ``tables`` and ``salient`` are what
    ``jpegplus.compress(image, mode="full", target_size=len(uniform))`` writes without and with
    ``saliency=True``: the restoration tables alone, and the tables plus the saliency dead zones.
    """
    rows = []
    for path in track(dataset_images(dataset, limit), description="saliency"):
        image = np.asarray(Image.open(path).convert("RGB"))
        saliency = saliency_map(image)
        mask = saliency >= np.quantile(saliency, 0.75)
        if not rows:
            Image.fromarray(centre_crop((saliency * 255).astype(np.uint8), SHOWN)).save(out / "saliency_crop.png")
        for quality in qualities:
            uniform = get_codec("jpeg").encode(image, quality)
            files = {
                "uniform": uniform,
                "tables": jpegplus.compress(image, mode="full", target_size=len(uniform)),
                "salient": jpegplus.compress(image, mode="full", target_size=len(uniform), saliency=True),
            }
            decoded = {name: _decode(data) for name, data in files.items()}
            rows.append({
                "image": path.name, "quality": quality,
                **{f"{n}_bytes": len(d) for n, d in files.items()},
                **{f"{n}_salient_psnr": psnr(image, d, mask) for n, d in decoded.items()},
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
    return {"summary": {str(q): _summary([r for r in rows if r["quality"] == q]) for q in qualities}, "rows": rows}


def _summary(group: list[dict]) -> dict[str, float]:
    def mean_change(metric: str, name: str) -> float:
        return float(np.mean([r[f"{name}_{metric}"] - r[f"uniform_{metric}"] for r in group]))

    ratios = [r["salient_bytes"] / r["uniform_bytes"] for r in group]
    return {
        "images": len(group),
        "within_size_tolerance": sum(1 - SIZE_TOLERANCE <= ratio <= 1 for ratio in ratios),
        "size_ratio": float(np.mean(ratios)),
        "salient_psnr_gain_db": mean_change("salient_psnr", "salient"),
        "ms_ssim_change": mean_change("ms_ssim", "salient"),
        "tables_only_salient_psnr_gain_db": mean_change("salient_psnr", "tables"),
        "tables_only_ms_ssim_change": mean_change("ms_ssim", "tables"),
    }
