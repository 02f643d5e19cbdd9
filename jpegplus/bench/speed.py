"""``jpegplus bench-speed``: each runtime, precision and network timed on the whole path, file in → pixels out.

Every variant runs in fresh processes with its environment (``JPEGPLUS_RUNTIME``,
``JPEGPLUS_PRECISION``, ``ONEDNN_MAX_CPU_ISA`` for a CPU without AVX-512, ``JPEGPLUS_WEIGHTS`` for
another network than the installed one), so its first call is a
real first call, its 24-megapixel peak memory its own, and no runtime's thread pool competes with
another's. Timings are only meaningful on an otherwise idle machine: the load average before and
after each variant is recorded beside its figures.
"""

from __future__ import annotations

import functools
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from jpegplus.bench.runner import dataset_images
from jpegplus.errors import InvalidOptionError
from jpegplus.runtime import (
    ISA_CAP_VARIABLE,
    PRECISION_VARIABLE,
    RUNTIME_VARIABLE,
    Precision,
    Runtime,
    RuntimeFailure,
    installed,
    select_runtime,
    simd_flags,
)
from jpegplus.weights import MANIFEST, WEIGHTS_VARIABLE

QUALITY = 50  # of the Kodak files timed (decompress: jpegplus full mode; enhance: a Pillow JPEG)


@dataclass(frozen=True)
class Variant:
    """One runtime × precision, optionally with the CPU's instruction set capped and other weights."""

    runtime: Runtime
    precision: Precision
    isa: str | None = None
    weights: str | None = None  # a weights folder (``JPEGPLUS_WEIGHTS``); None: the installed weights

    @property
    def name(self) -> str:
        return "-".join([self.runtime.value, self.precision.value, *([self.isa.lower()] if self.isa else [])])

    def environment(self) -> dict[str, str]:
        env = {**os.environ, RUNTIME_VARIABLE: self.runtime.value, PRECISION_VARIABLE: self.precision.value}
        if self.isa:
            env[ISA_CAP_VARIABLE] = self.isa
        if self.weights:
            env[WEIGHTS_VARIABLE] = self.weights
        return env

    @property
    def possible(self) -> bool:
        """False for what the runtime cannot do (ONNX Runtime in bf16 or capped to an instruction set)."""
        return self.runtime not in FP32_ONLY or (self.precision is Precision.FP32 and self.isa is None)

    def with_weights(self, weights: Path | None) -> Variant:
        """This variant running the networks of the weights folder ``weights`` (None: the installed ones)."""
        return replace(self, weights=str(weights) if weights else None)


FP32_ONLY = (Runtime.ONNXRUNTIME,)  # no bf16 kernels and no instruction-set cap (onnxruntime_net)


def default_variants() -> list[Variant]:
    """Every installed runtime in bf16 (where the CPU and the runtime have it) and fp32, and fp32
    capped to AVX2 where the runtime has the cap."""
    runtimes = [runtime for runtime in Runtime if installed(runtime)]
    bf16 = any(flag in simd_flags() for flag in ("avx512_bf16", "amx_bf16"))
    precisions = [Precision.BF16, Precision.FP32] if bf16 else [Precision.FP32]
    grid = [Variant(runtime, precision) for runtime in runtimes for precision in precisions]
    capped = [Variant(runtime, Precision.FP32, "AVX2") for runtime in runtimes]
    return [variant for variant in grid + capped if variant.possible]


def parse_variants(text: str) -> list[Variant]:
    """``openvino-bf16,torch-fp32-avx2`` → variants; empty → :func:`default_variants`."""
    variants = []
    for item in filter(None, (part.strip().lower() for part in text.split(","))):
        runtime, _, rest = item.partition("-")
        precision, _, isa = rest.partition("-")
        try:
            variant = Variant(Runtime(runtime), Precision(precision), isa.upper() or None)
        except ValueError:
            runtimes, precisions = "|".join(r.value for r in Runtime), "|".join(p.value for p in Precision)
            msg = f"variant {item!r} is not {runtimes}-{precisions}[-isa], e.g. openvino-bf16 or torch-fp32-avx2"
            raise InvalidOptionError(msg) from None
        if not variant.possible:
            msg = f"variant {item!r}: {variant.runtime.value} runs fp32 only, without an instruction-set cap"
            raise InvalidOptionError(msg)
        variants.append(variant)
    return variants or default_variants()


def with_networks(variants: list[Variant], folders: list[Path]) -> list[Variant]:
    """Every variant with the networks of each weights folder in turn (none given: the installed weights).

    A folder without a weights manifest is refused before anything is timed.
    """
    for folder in folders:
        if not (folder / MANIFEST).is_file():
            msg = f"{folder} is not a weights folder: it has no {MANIFEST}"
            raise InvalidOptionError(msg)
    return [variant.with_weights(folder) for folder in folders for variant in variants] if folders else variants


def network_gmac(net: torch.nn.Module, *inputs: torch.Tensor) -> float:
    """Multiply-accumulates (×1e9) of ``net``'s convolutions on ``inputs``."""
    total = 0

    def count(module: torch.nn.Module, args: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        # weight[0]: in/groups × kh × kw per output value (Conv2d), out/groups × kh × kw per input value (transposed)
        per_value = module.get_parameter("weight")[0].numel()
        total += (output if isinstance(module, torch.nn.Conv2d) else args[0]).numel() * per_value

    convolutions = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d)]
    handles = [m.register_forward_hook(count) for m in convolutions]
    try:
        with torch.no_grad():
            net(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return total / 1e9


def _median_ms(name: str, function: Any, items: list[Any]) -> dict[str, float]:
    """Median wall-clock and CPU (all threads) milliseconds of ``function`` over ``items``.

    CPU time is the steadier figure on a shared machine: other processes stretch the wall clock.
    """
    wall, cpu = [], []
    for item in items:
        start, start_cpu = time.perf_counter(), time.process_time()
        function(item)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {f"{name}_ms": statistics.median(wall), f"{name}_cpu_ms": statistics.median(cpu)}


def measure_kodak(dataset: Path, limit: int | None) -> dict[str, float]:
    """First-call and median per-image milliseconds of decompress, enhance and downsample compress."""
    from jpegplus import pipeline

    started = time.perf_counter()
    pictures = [np.asarray(Image.open(path).convert("RGB")) for path in dataset_images(dataset, limit)]
    files = [pipeline.compress(picture, quality=QUALITY, mode="full") for picture in pictures]
    first = time.perf_counter()
    pipeline.decompress(files[0])
    result = {"first_call_ms": (time.perf_counter() - first) * 1000, "startup_ms": (first - started) * 1000}
    plain = []
    for picture in pictures:
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, "JPEG", quality=QUALITY)
        plain.append(buffer.getvalue())
    pipeline.enhance(plain[0])
    pipeline.compress(pictures[0], quality=QUALITY, mode="downsample")
    result.update(_median_ms("decompress", pipeline.decompress, files))
    result.update(_median_ms("enhance", pipeline.enhance, plain))
    downsample = functools.partial(pipeline.compress, quality=QUALITY, mode="downsample")
    result.update(_median_ms("compress_downsample", downsample, pictures))
    return result


def measure_cold_first_call(dataset: Path) -> dict[str, float]:
    """The first decompress of a process whose graph cache is empty (a new install)."""
    from jpegplus import pipeline

    picture = np.asarray(Image.open(dataset_images(dataset, 1)[0]).convert("RGB"))
    data = pipeline.compress(picture, quality=QUALITY, mode="full")
    start = time.perf_counter()
    pipeline.decompress(data)
    return {"first_call_cold_ms": (time.perf_counter() - start) * 1000}


def measure_large(megapixels: float) -> dict[str, float]:
    """Decompress seconds and peak RSS of one synthetic photo of ``megapixels`` (full mode)."""
    from jpegplus import pipeline
    from jpegplus.bench.large import synthetic_photo

    image = synthetic_photo(megapixels)
    data = pipeline.compress(image, quality=QUALITY, mode="full")
    start = time.perf_counter()
    pipeline.decompress(data)
    seconds = time.perf_counter() - start
    return {
        "large_decompress_s": seconds,
        "large_mp_per_s": image.shape[0] * image.shape[1] / 1e6 / seconds,
        "large_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _worker(task: str, arguments: dict[str, Any], env: dict[str, str]) -> dict[str, float]:
    command = [sys.executable, "-m", "jpegplus.bench.speed", task, json.dumps(arguments)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        msg = f"bench-speed's {task} measurement failed ({env.get(RUNTIME_VARIABLE)} runtime): {last}"
        raise RuntimeFailure(msg)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_variant(variant: Variant, dataset: Path, limit: int | None, megapixels: float) -> dict[str, Any]:
    """All figures of one variant, each task in its own process."""
    env = variant.environment()
    load_before = os.getloadavg()[0]
    figures: dict[str, Any] = _worker("workload", {}, env)
    with tempfile.TemporaryDirectory() as empty_cache:
        figures.update(_worker("cold", {"dataset": str(dataset)}, {**env, "JPEGPLUS_CACHE": empty_cache}))
    figures.update(_worker("kodak", {"dataset": str(dataset), "limit": limit}, env))
    if megapixels > 0:
        figures.update(_worker("large", {"megapixels": megapixels}, env))
    load_after = os.getloadavg()[0]
    return {"variant": variant.name, **asdict(variant), **figures, "load_before": load_before, "load_after": load_after}


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what ``platform`` says."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.partition(":")[2].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """The CPU and software the figures depend on."""
    versions = {"torch": torch.__version__, "python": platform.python_version()}
    if installed(Runtime.OPENVINO):
        import openvino

        versions["openvino"] = openvino.__version__
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "simd": simd_flags(), **versions}


def workload() -> dict[str, Any]:
    """The networks timed and their GMAC on a 768×512 Kodak image: the reconstruction that restores a
    full-mode file of :data:`QUALITY` (a lighter stand-in where the manifest has one) and the ComCNN."""
    from jpegplus.codecs import CodecName
    from jpegplus.codecs.jpeg.quantization import condition_from_tables, restoration_tables
    from jpegplus.modes import Mode
    from jpegplus.weights import lighter, load_model, select

    image, condition = torch.rand(1, 3, 512, 768), torch.tensor([[0.5, 0.5]])
    full_spec = lighter(select(CodecName.JPEG.value, Mode.FULL), condition_from_tables(*restoration_tables(QUALITY)))
    full, downsample = load_model(full_spec.name), load_model(select(CodecName.JPEG.value, Mode.DOWNSAMPLE).name)
    assert downsample.compact is not None  # a downsample model has its ComCNN
    return {
        "network": full.spec.architecture.reconstructor,
        "restore_gmac": network_gmac(full.reconstruct, image, condition),
        "compact_gmac": network_gmac(downsample.compact, image),
    }


def run_speed(dataset: Path, out: Path, variants: list[Variant], limit: int | None, megapixels: float) -> list[str]:
    """Measure every variant, write ``results.json`` and ``README.md`` into ``out``; returns the table's lines.

    Variants that an earlier run on the same CPU wrote into ``out`` and this one does not measure are
    kept, so variants can be measured one at a time (each in its own quiet moment).
    Each variant's figures are written as soon as they are measured: a variant that fails (its runtime
    cannot run here) stops the run with that error and keeps the figures measured before it.
    """
    dataset_images(dataset, 1)  # refuses a folder without images before the long measurements
    table: list[str] = []
    for variant in variants:
        row = measure_variant(variant, dataset, limit, megapixels)
        row["decompress_gmac_per_s"] = row["restore_gmac"] / (row["decompress_ms"] / 1000)
        table = _write_results(out, {**row, "images": limit, "megapixels": megapixels}, megapixels)
    return table


def _write_results(out: Path, row: dict[str, Any], megapixels: float) -> list[str]:
    """Merge ``row`` into ``out``'s ``results.json`` and rewrite its ``README.md``; returns the table's lines."""
    now = machine()
    rows = _merged(out / "results.json", [row], now)
    results = {"machine": now, "quality": QUALITY, "variants": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown_table(rows, megapixels)
    header = (
        f"CPU: {now['cpu']}, {now['cores']} cores, SIMD: {' '.join(now['simd'])}. GMAC: of the full-mode "
        f"network per 768×512 image (the downsample compress adds the ComCNN's {rows[0]['compact_gmac']:.1f}). "
        f"Medians over the Kodak images at quality {QUALITY}; "
        f"the runtime chosen by default here: {select_runtime(torch.device('cpu')).value}."
    )
    (out / "README.md").write_text(f"# Speed (`jpegplus bench-speed`)\n\n{header}\n\n" + "\n".join(table) + "\n")
    return table


def _merged(previous: Path, rows: list[dict[str, Any]], now: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of an earlier run on the same CPU, each replaced by its new measurement, then the new ones."""
    try:
        earlier = json.loads(previous.read_text())
    except (OSError, ValueError):
        return rows
    if earlier.get("machine", {}).get("cpu") != now["cpu"]:
        return rows
    fresh = {_key(row): row for row in rows}
    kept = [fresh.pop(_key(row), row) for row in earlier.get("variants", [])]
    return kept + list(fresh.values())


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return row["variant"], row.get("network", "")


COLUMNS = {
    "network": ("network", "{}"),
    "restore_gmac": ("GMAC", "{:.1f}"),
    "decompress_ms": ("decompress ms", "{:.1f}"),
    "decompress_cpu_ms": ("decompress CPU ms", "{:.0f}"),
    "enhance_ms": ("enhance ms", "{:.1f}"),
    "compress_downsample_ms": ("downsample compress ms", "{:.1f}"),
    "large_decompress_s": ("{mp} MP decompress s", "{:.2f}"),
    "large_mp_per_s": ("MP/s", "{:.2f}"),
    "large_peak_rss_mb": ("peak MB", "{:.0f}"),
    "first_call_ms": ("first call ms", "{:.0f}"),
    "first_call_cold_ms": ("first call ms, empty cache", "{:.0f}"),
    "decompress_gmac_per_s": ("GMAC/s", "{:.0f}"),
}


def markdown_table(rows: list[dict[str, Any]], megapixels: float) -> list[str]:
    """One line per variant, with the load average around its run."""
    keys = [key for key in COLUMNS if any(key in row for row in rows)]
    titles = [COLUMNS[key][0].format(mp=f"{megapixels:g}") for key in keys]
    lines = ["| variant | " + " | ".join(titles) + " | load |", "|---" * (len(keys) + 2) + "|"]
    for row in rows:
        cells = [COLUMNS[key][1].format(row[key]) if key in row else "" for key in keys]
        load = f"{row['load_before']:.1f}→{row['load_after']:.1f}"
        lines.append(f"| {row['variant']} | " + " | ".join(cells) + f" | {load} |")
    return lines


if __name__ == "__main__":
    TASKS = {
        "kodak": lambda a: measure_kodak(Path(a["dataset"]), a.get("limit")),
        "cold": lambda a: measure_cold_first_call(Path(a["dataset"])),
        "large": lambda a: measure_large(a["megapixels"]),
        "workload": lambda a: workload(),
    }
    print(json.dumps(TASKS[sys.argv[1]](json.loads(sys.argv[2]))))
