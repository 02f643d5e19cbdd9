"""``jpegplus bench-enhance``: enhance on the sets of :mod:`jpegplus.bench.enhance_sets`, per set and worst image."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from jpegplus import metrics, pipeline
from jpegplus.bench.enhance_sets import REFERENCE_SUFFIX, make_sets
from jpegplus.bench.speed import machine
from jpegplus.runtime import cpu_has_bf16
from jpegplus.weights import WeightsSpec, load_model, select_enhance, stand_in


@dataclass(frozen=True)
class SetResult:
    """One set: PSNR of the plain decode and of enhance against the references (RGB, or gray's one plane)."""

    name: str
    images: int
    plain_psnr: float
    enhanced_psnr: float
    mean_gain: float
    worst_gain: float
    worst_image: str
    median_ms: float


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture.convert("L" if picture.mode == "L" else "RGB"))


def _as(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``image`` in the reference's colour mode (a gray reference compares luma)."""
    if reference.ndim == image.ndim:
        return image
    return np.asarray(Image.fromarray(image).convert("L" if reference.ndim == 2 else "RGB"))


def bench_set(folder: Path, passes: int = 1) -> SetResult:
    """Enhance every input of one set folder (with ``passes``, :func:`jpegplus.enhance`'s) and compare with its
    reference."""
    gains, plains, outs, times = {}, [], [], []
    for reference_path in sorted(folder.glob(f"*{REFERENCE_SUFFIX}")):
        stem = reference_path.name[: -len(REFERENCE_SUFFIX)]
        (source,) = (p for p in folder.glob(f"{stem}.*") if p != reference_path)
        reference = _pixels(reference_path)
        plain = _as(reference, _pixels(source))
        start = time.perf_counter()
        enhanced = _as(reference, pipeline.enhance(source, passes=passes))
        times.append((time.perf_counter() - start) * 1000)
        plains.append(metrics.psnr(reference, plain))
        outs.append(metrics.psnr(reference, enhanced))
        gains[stem] = outs[-1] - plains[-1]
    worst = min(gains, key=gains.__getitem__)
    return SetResult(
        name=folder.name,
        images=len(gains),
        plain_psnr=float(np.mean(plains)),
        enhanced_psnr=float(np.mean(outs)),
        mean_gain=float(np.mean(list(gains.values()))),
        worst_gain=gains[worst],
        worst_image=worst,
        median_ms=statistics.median(times),
    )


def bench_photos(
    photos: Path, out: Path, names: list[str] | None = None, keep: Path | None = None, *, passes: int = 1
) -> list[SetResult]:
    """Make the sets (all, or ``names``) from the clean PNG photos of ``photos`` (into ``keep``, else a
    temporary folder) and measure them with ``passes``: results.json and summary.md in ``out``."""
    if keep is not None:
        make_sets(photos, keep, names)
        return run_enhance_bench(keep, out, names, passes=passes)
    with tempfile.TemporaryDirectory(prefix="jpegplus-enhance-sets-") as folder:
        make_sets(photos, Path(folder), names)
        return run_enhance_bench(Path(folder), out, names, passes=passes)


def run_enhance_bench(sets_dir: Path, out: Path, names: list[str] | None = None, *, passes: int = 1) -> list[SetResult]:
    """Every set folder of ``sets_dir`` (or ``names``) with ``passes``; writes results.json and summary.md into
    ``out``."""
    folders = [sets_dir / n for n in names] if names else sorted(p for p in sets_dir.iterdir() if p.is_dir())
    pipeline.enhance(np.zeros((64, 64, 3), np.uint8), strength=50)  # load and compile once, outside the timings
    results = [bench_set(folder, passes) for folder in folders]
    model = load_model(select_enhance().name)
    light = stand_in(model.spec)
    facts: dict[str, object] = {
        "model": model.spec.model_id,
        "parameters": _parameters(model.spec),
        "light": None
        if light is None
        else {"model": light.model_id, "parameters": _parameters(light), "lowest_quality": light.lowest_quality},
        "passes": passes,
        "bf16": cpu_has_bf16(),
        "machine": machine(),
        "sets": [asdict(r) for r in results],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(facts, indent=1) + "\n")
    (out / "summary.md").write_text(markdown(results, facts) + "\n")
    return results


def _parameters(spec: WeightsSpec) -> int:
    return sum(p.numel() for p in load_model(spec.name).reconstruct.parameters())


def markdown(results: list[SetResult], facts: dict[str, Any]) -> str:
    """The per-set table."""
    light = facts.get("light")
    models = f"`{facts['model']}` ({facts['parameters']:,} parameters)"
    if light:
        models += (
            f", and from quality {light['lowest_quality']} of libjpeg's standard tables `{light['model']}`"
            f" ({light['parameters']:,} parameters)"
        )
    averaged = f", averaged over {facts['passes']} flips and turns" if facts.get("passes", 1) > 1 else ""
    lines = [
        f"enhance with {models}{averaged}; PSNR against the references (RGB; gray sets on their one plane)",
        "",
        "| set | images | plain dB | enhanced dB | mean gain | worst gain (image) | median ms |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.name} | {r.images} | {r.plain_psnr:.2f} | {r.enhanced_psnr:.2f} | {r.mean_gain:+.2f} | "
        f"{r.worst_gain:+.2f} ({r.worst_image}) | {r.median_ms:.0f} |"
        for r in results
    ]
    if cpu := facts.get("machine"):
        lines += ["", f"Milliseconds on {cpu['cpu']}, {cpu['cores']} cores, SIMD {' '.join(cpu['simd'])}."]
    return "\n".join(lines)
