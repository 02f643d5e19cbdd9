"""Run the benchmark grid: plain codecs, peer JPEG encoders, jpegplus modes (and their plain view) and
plain files + enhance, image by image."""

from __future__ import annotations

import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from rich.progress import Progress

from jpegplus import metrics, pipeline
from jpegplus.bench.bdrate import METHOD, bd_rate, crossover_rate, quality_at_rate
from jpegplus.bench.options import DEFAULT_CODECS, DEFAULT_MODES, DEFAULT_QUALITIES, DEFAULT_TUNES
from jpegplus.bench.peers import Peer, encode_peer
from jpegplus.codecs import Codec, CodecName, get_codec
from jpegplus.errors import InvalidInputError, InvalidOptionError
from jpegplus.modes import Mode, Tune
from jpegplus.options import check_passes
from jpegplus.runtime import cpu_has_bf16, select_runtime, simd_flags
from jpegplus.weights import read_manifest

BD_RANGE = (0.1, 1.5)
PLAIN_JPEG = "plain-jpeg"
EVALUATION_SUFFIXES = (".png", ".bmp", ".tif", ".tiff")  # lossless references only
# BD-rate columns vs_<key>_<metric>: plain libjpeg, and the peers a user would pick instead when the run has them
ANCHORS = {"jpeg": PLAIN_JPEG, "jpegli": Peer.JPEGLI.curve, "mozjpeg": Peer.MOZJPEG.curve}
PLAIN_VIEW = "-plain-view"  # suffix of the curve of a jpegplus file opened by a plain decoder
PLAIN_VIEW_RATES = (0.25, 0.5, 1.0)  # bpp at which the report compares the plain view with the plain codec


@dataclass(frozen=True)
class BenchRecord:
    """One image at one quality on one curve."""

    image: str
    curve: str
    codec: str
    quality: int
    bytes: int
    bpp: float
    psnr: float
    y_psnr: float
    ssim: float
    ms_ssim: float
    encode_ms: float
    decode_ms: float


@dataclass(frozen=True)
class BenchConfig:
    """What to run."""

    dataset: Path
    codecs: tuple[CodecName, ...] = DEFAULT_CODECS
    modes: tuple[Mode, ...] = DEFAULT_MODES
    enhance: bool = False
    qualities: tuple[int, ...] = DEFAULT_QUALITIES
    limit: int | None = None
    peers: tuple[Peer, ...] = ()
    plain_view: bool = False
    tunes: tuple[Tune, ...] = DEFAULT_TUNES  # auto's curves, one per metric it is tuned for
    passes: int = 1  # > 1: every network curve again, decoded with that many passes (jpegplus.ensemble)

    def __post_init__(self) -> None:
        check_passes(self.passes)
        for peer in self.peers:
            if peer.codec not in self.codecs:
                msg = f"--peers are {peer.codec.name} encoders: add {peer.codec.value} to --codecs"
                raise InvalidOptionError(msg)


def dataset_images(folder: Path, limit: int | None) -> list[Path]:
    """The PNG images of an evaluation folder, sorted, at most ``limit``; a folder without any is refused."""
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in EVALUATION_SUFFIXES) if folder.is_dir() else []
    if not paths:
        msg = f"{folder} is not a folder of images"
        raise InvalidInputError(msg)
    return paths[:limit] if limit else paths


def _timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, (time.perf_counter() - start) * 1000


def _record(name: str, curve: str, codec: str, quality: int, reference: np.ndarray, data: bytes,
            decoded: np.ndarray, encode_ms: float, decode_ms: float) -> BenchRecord:  # fmt: skip
    pixels = reference.shape[0] * reference.shape[1]
    return BenchRecord(
        image=name, curve=curve, codec=codec, quality=quality, bytes=len(data), bpp=len(data) * 8 / pixels,
        psnr=metrics.psnr(reference, decoded), y_psnr=metrics.y_psnr(reference, decoded),
        ssim=metrics.ssim(reference, decoded), ms_ssim=metrics.ms_ssim(reference, decoded),
        encode_ms=encode_ms, decode_ms=decode_ms,
    )  # fmt: skip


def _as_reference(reference: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """``decoded`` in the reference's colour mode and size, as a viewer showing it at the original size would."""
    if decoded.ndim == reference.ndim and decoded.shape[:2] == reference.shape[:2]:
        return decoded
    picture = Image.fromarray(decoded).convert("L" if reference.ndim == 2 else "RGB")
    return np.asarray(picture.resize((reference.shape[1], reference.shape[0]), Image.Resampling.BICUBIC))


def bench_image(path: Path, config: BenchConfig, keep: dict[str, dict[int, np.ndarray]] | None) -> list[BenchRecord]:
    """Every curve at every quality for one image; ``keep`` collects decodes for the report's crops."""
    picture = Image.open(path)
    reference = np.asarray(picture.convert("L" if picture.mode in ("L", "I;16") else "RGB"))
    records = []

    def add(curve: str, codec: str, quality: int, data: bytes, decoded: np.ndarray, enc: float, dec: float) -> None:
        records.append(_record(path.name, curve, codec, quality, reference, data, decoded, enc, dec))
        if keep is not None:
            keep.setdefault(curve, {})[quality] = decoded

    def plain_and_enhanced(curve: str, codec: Codec, quality: int, data: bytes, enc: float) -> None:
        decoded, dec = _timed(codec.decode, data)
        add(curve, codec.name, quality, data, _as_reference(reference, decoded), enc, dec)
        if config.enhance and codec.enhanceable:
            for passes, suffix in _pass_curves(config):
                enhanced, dec = _timed(pipeline.enhance, data, passes=passes)
                add(f"{curve.removeprefix('plain-')}+enhance{suffix}", codec.name, quality, data,
                    _as_reference(reference, enhanced), enc, dec)  # fmt: skip

    for codec_name in config.codecs:
        codec = get_codec(codec_name)
        name = codec.name
        for quality in config.qualities:
            data, enc = _timed(codec.encode, reference, quality)
            plain_and_enhanced(f"plain-{name}", codec, quality, data, enc)
            for peer in (p for p in config.peers if p.codec == codec_name):
                data, enc = _timed(encode_peer, peer, reference, quality)
                plain_and_enhanced(peer.curve, codec, quality, data, enc)
            for mode, tune in _mode_curves(config):
                packed, enc = _timed(
                    pipeline.compress, reference, codec=name, quality=quality, mode=mode.value, allow_half_size=True,
                    tune=tune.value,
                )  # fmt: skip
                label = mode.value if tune is Tune.PSNR else f"{mode.value}-{tune.value}"
                for passes, suffix in _pass_curves(config):
                    restored, dec = _timed(pipeline.decompress, packed, passes=passes)
                    add(f"jpegplus-{name}-{label}{suffix}", name, quality, packed, restored, enc, dec)
                if config.plain_view:
                    plain, dec = _timed(codec.decode, packed)
                    add(f"jpegplus-{name}-{label}{PLAIN_VIEW}", name, quality, packed,
                        _as_reference(reference, plain), enc, dec)  # fmt: skip
    return records


def _pass_curves(config: BenchConfig) -> list[tuple[int, str]]:
    """(passes, curve name suffix) of each network decode: one pass, and ``config.passes`` when more."""
    return [(1, "")] + ([(config.passes, f"-passes{config.passes}")] if config.passes > 1 else [])


def _mode_curves(config: BenchConfig) -> list[tuple[Mode, Tune]]:
    """The jpegplus curves: each mode, auto once per tune (the others choose nothing a tune could change)."""
    return [(mode, tune) for mode in config.modes for tune in (config.tunes if mode is Mode.AUTO else (Tune.PSNR,))]


def summarise(records: list[BenchRecord]) -> dict[str, list[dict[str, float]]]:
    """Per curve, per quality: metrics averaged over images (the RD curve)."""
    curves: dict[str, dict[int, list[BenchRecord]]] = {}
    for record in records:
        curves.setdefault(record.curve, {}).setdefault(record.quality, []).append(record)
    fields = ("bpp", "psnr", "y_psnr", "ssim", "ms_ssim")
    return {
        curve: [
            {"quality": q, **{f: float(np.nanmean([getattr(r, f) for r in group])) for f in fields}}
            for q, group in sorted(points.items())
        ]
        for curve, points in curves.items()
    }


def _in_range(points: list[dict[str, float]]) -> list[dict[str, float]]:
    return [p for p in points if BD_RANGE[0] <= p["bpp"] <= BD_RANGE[1]]


def bd_rates(curves: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """BD-rate (PSNR and MS-SSIM) of every curve against plain libjpeg, against jpegli and mozjpeg (when the
    run has them) and, for other codecs, against the curve's own plain codec."""

    def versus(anchor: str, test: str, metric: str) -> float:
        a, t = _in_range(curves[anchor]), _in_range(curves[test])
        return bd_rate([p["bpp"] for p in a], [p[metric] for p in a], [p["bpp"] for p in t], [p[metric] for p in t])

    table = {}
    for curve in curves:
        own = "plain-" + curve.split("-")[1] if curve.startswith(("jpegplus-", "plain-")) else PLAIN_JPEG
        anchors = {key: name for key, name in ANCHORS.items() if name in curves}
        if own != PLAIN_JPEG and own in curves:
            anchors["own_codec"] = own
        table[curve] = {
            f"vs_{key}_{metric}": versus(anchor, curve, metric)
            for key, anchor in anchors.items()
            for metric in ("psnr", "ms_ssim")
        }
    return table


def plain_view_gaps(curves: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    """For each plain-view curve: its PSNR and MS-SSIM minus the plain codec's at equal rates
    (:data:`PLAIN_VIEW_RATES`; NaN outside either curve). Negative: a plain viewer sees less than
    the plain codec would have given at that file size."""
    gaps = {}
    for curve in (c for c in curves if c.endswith(PLAIN_VIEW)):
        own = "plain-" + curve.split("-")[1]
        if own not in curves:
            continue
        row = {}
        for metric in ("psnr", "ms_ssim"):
            for rate in PLAIN_VIEW_RATES:
                at = [quality_at_rate([p["bpp"] for p in curves[c]], [p[metric] for p in curves[c]], rate)
                      for c in (curve, own)]  # fmt: skip
                row[f"{metric}_at_{rate}_bpp"] = at[0] - at[1]
        gaps[curve] = row
    return gaps


def crossovers(curves: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    """Per codec, the bpp above which the full-resolution mode beats the half-resolution one (PSNR)."""
    found = {}
    for curve in curves:
        if curve.startswith("jpegplus-") and curve.endswith("-downsample"):
            full = curve.replace("-downsample", "-full")
            if full in curves:
                as_pair = [([p["bpp"] for p in curves[c]], [p["psnr"] for p in curves[c]]) for c in (curve, full)]
                found[curve.split("-")[1]] = crossover_rate(*as_pair)
    return found


def speed(records: list[BenchRecord]) -> dict[str, dict[str, float]]:
    """Median encode/decode milliseconds and decode megapixels per second, per curve."""
    by_curve: dict[str, list[BenchRecord]] = {}
    for record in records:
        by_curve.setdefault(record.curve, []).append(record)
    table = {}
    for curve, group in by_curve.items():
        decode = statistics.median(r.decode_ms for r in group)
        megapixels = statistics.median(r.bytes * 8 / r.bpp for r in group) / 1e6
        table[curve] = {
            "encode_ms": statistics.median(r.encode_ms for r in group),
            "decode_ms": decode,
            "decode_mp_per_s": megapixels / (decode / 1000),
        }
    return table


def machine() -> dict[str, object]:
    """What the timings depend on."""
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "bf16": cpu_has_bf16(),
        "runtime": select_runtime(torch.device("cpu")).value,
        "simd": simd_flags(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "models": sorted(spec.model_id for spec in read_manifest().values()),
    }


def run(config: BenchConfig) -> dict[str, Any]:
    """Run the whole grid with a progress bar; returns the results document."""
    paths = dataset_images(config.dataset, config.limit)
    records: list[BenchRecord] = []
    with Progress() as progress:
        task = progress.add_task("bench", total=len(paths))
        for path in paths:
            records.extend(bench_image(path, config, None))
            progress.advance(task)
    curves = summarise(records)
    return {
        "config": {
            **asdict(config),
            "dataset": str(config.dataset),
            "codecs": [c.value for c in config.codecs],
            "modes": [m.value for m in config.modes],
            "tunes": [t.value for t in config.tunes],
            "peers": [p.value for p in config.peers],
            "images": [p.name for p in paths],
        },
        "machine": machine(),
        "bd_rate_method": f"{METHOD}; points with {BD_RANGE[0]} <= bpp <= {BD_RANGE[1]}",
        "curves": curves,
        "bd_rate": bd_rates(curves),
        "plain_view": plain_view_gaps(curves),
        "crossover_bpp": crossovers(curves),
        "speed": speed(records),
        "records": [asdict(r) for r in records],
    }
