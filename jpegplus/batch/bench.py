"""Batch throughput: images/s, megapixels/s and CPU use of the engines on Kodak and on large photos.

The inputs are made at run time in a temporary folder (never committed): the Kodak PNGs
compressed in full mode, and mosaics of training photos upscaled 2x to about 12 megapixels.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from jpegplus.batch.manifest import Record
from jpegplus.batch.options import Operation, Options
from jpegplus.batch.runner import Engine, run

MOSAIC = (5, 4)  # columns x rows of 2x-upscaled 481x321 photos: 4810x2568, 12.4 megapixels


@dataclass(frozen=True)
class Setting:
    """One way to run a batch."""

    name: str
    engine: Engine
    jobs: int | None = None
    threads: int | None = None
    address: str | None = None


SETTINGS = (
    Setting("sequential (1 process x 2 threads)", Engine.LOCAL, jobs=1),
    Setting("--jobs 2 (2 processes x 1 thread)", Engine.LOCAL, jobs=2, threads=1),
    Setting("--jobs 2, 2 threads each", Engine.LOCAL, jobs=2, threads=2),
    Setting("--engine ray (2 actors x 1 thread)", Engine.RAY, address="auto"),
)


def cpu_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass(frozen=True)
class Measurement:
    """Throughput of one setting on one set of images."""

    dataset: str
    setting: str
    images: int
    megapixels: float
    seconds: float
    images_per_s: float
    megapixels_per_s: float
    cpu_busy: float  # share of all cores busy during the run (the machine's, so measure it idle)
    work_cpu: float  # share of all cores the batch's workers spent on its files (their CPU time)
    file_s_median: float  # one file's seconds in its worker (start-up excluded but the first file's)
    failed: int


def measure(dataset: str, inputs: Path, out: Path, setting: Setting, operation: Operation) -> Measurement:
    """Run one batch from its start to its last file, as a fresh process runs it.

    Worker start-up (torch import, loading the networks) is included; for Ray, connecting to the
    running cluster and starting the actors is, starting the cluster is not.
    """
    sizes = [Image.open(path).size for path in sorted(inputs.iterdir())]
    records: list[Record] = []
    busy, total = cpu_busy()
    start = time.perf_counter()
    summary = run(
        [inputs],
        Options(operation),
        out_dir=out,
        engine=setting.engine,
        jobs=setting.jobs,
        threads=setting.threads,
        address=setting.address,
        on_record=records.append,
    )
    seconds = time.perf_counter() - start
    busy_after, total_after = cpu_busy()
    megapixels = sum(w * h for w, h in sizes) / 1e6
    return Measurement(
        dataset,
        setting.name,
        len(sizes),
        round(megapixels, 2),
        round(seconds, 2),
        round(len(sizes) / seconds, 3),
        round(megapixels / seconds, 3),
        round((busy_after - busy) / max(total_after - total, 1), 3),
        round(sum(r.cpu_seconds for r in records) / seconds / (os.cpu_count() or 1), 3),
        round(float(np.median([r.seconds for r in records])), 3),
        summary.failed,
    )


def make_inputs(kodak: Path, photos: Path, work: Path, *, large: int = 4) -> dict[str, Path]:
    """Kodak and ``large`` mosaics of ``photos``, compressed (full mode, quality 50) into ``work``."""
    from jpegplus import pipeline

    folders = {"kodak": work / "kodak", "large": work / "large"}
    for folder in folders.values():
        folder.mkdir(parents=True)
    for path in sorted(kodak.glob("*.png")):
        packed = pipeline.compress(path, codec="jpeg", quality=50, mode="full")
        (folders["kodak"] / f"{path.stem}.jpegplus.jpg").write_bytes(packed)
    for index, mosaic in enumerate(_mosaics(sorted(photos.glob("*.png")), large)):
        packed = pipeline.compress(mosaic, codec="jpeg", quality=50, mode="full")
        (folders["large"] / f"mosaic{index}.jpegplus.jpg").write_bytes(packed)
    return folders


def _mosaics(photos: list[Path], count: int) -> Iterator[np.ndarray]:
    columns, rows = MOSAIC
    landscape = (p for p in photos if Image.open(p).size == (481, 321))
    for _ in range(count):
        tiles = [
            np.asarray(Image.open(next(landscape)).convert("RGB").resize((962, 642), Image.Resampling.BICUBIC))
            for _ in range(columns * rows)
        ]
        yield np.vstack([np.hstack(tiles[row * columns : (row + 1) * columns]) for row in range(rows)])


def run_batch_bench(kodak: Path, photos: Path, out: Path, operation: Operation, *, large: int = 4) -> list[Measurement]:
    """Every setting on Kodak and on the large photos; writes ``out/results.json`` and ``out/cpu.txt``.

    Each batch runs in a fresh process (so none reuses another's loaded networks); Ray is started
    once, before them, and they connect to it.
    """
    import ray
    import torch

    results = []
    with tempfile.TemporaryDirectory(prefix="jpegplus-bench-batch-") as scratch:
        folders = make_inputs(kodak, photos, Path(scratch), large=large)
        ray_start = time.perf_counter()
        ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        ray_init_s = time.perf_counter() - ray_start
        try:
            for dataset, inputs in folders.items():
                for number, setting in enumerate(SETTINGS if any(inputs.iterdir()) else ()):
                    target = Path(scratch) / f"out-{dataset}-{number}"
                    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as fresh:
                        results.append(fresh.submit(measure, dataset, inputs, target, setting, operation).result())
        finally:
            ray.shutdown()
    out.mkdir(parents=True, exist_ok=True)
    facts = {
        "operation": operation.value,
        "torch": torch.__version__,
        "ray": ray.__version__,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "ray_init_s": round(ray_init_s, 2),
        "results": [asdict(result) for result in results],
    }
    (out / "results.json").write_text(json.dumps(facts, indent=1) + "\n")
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    (out / "cpu.txt").write_text(lscpu or platform.processor() + "\n")
    return results
