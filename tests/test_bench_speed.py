from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from jpegplus.bench import speed
from jpegplus.bench.speed import Variant, markdown_table, network_gmac, parse_variants, run_speed, with_networks
from jpegplus.cli import app
from jpegplus.errors import InvalidOptionError
from jpegplus.runtime import Precision, Runtime, simd_flags


def test_variants_parse_and_name_themselves() -> None:
    variants = parse_variants(" openvino-bf16 , torch-fp32-avx2")
    assert variants == [Variant(Runtime.OPENVINO, Precision.BF16), Variant(Runtime.TORCH, Precision.FP32, "AVX2")]
    assert [v.name for v in variants] == ["openvino-bf16", "torch-fp32-avx2"]
    environment = variants[1].environment()
    assert environment["JPEGPLUS_RUNTIME"] == "torch" and environment["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert "ONEDNN_MAX_CPU_ISA" not in variants[0].environment() or variants[0].isa is None


@pytest.mark.parametrize("text", ["tensorflow-fp32", "torch", "torch-int3"])
def test_bad_variant_is_an_option_error(text: str) -> None:
    with pytest.raises(InvalidOptionError, match="e.g. openvino-bf16"):
        parse_variants(text)


@pytest.mark.parametrize("text", ["onnxruntime-bf16", "onnxruntime-fp32-avx2"])
def test_onnxruntime_variants_are_fp32_without_a_cap(text: str) -> None:
    assert parse_variants("onnxruntime-fp32") == [Variant(Runtime.ONNXRUNTIME, Precision.FP32)]
    with pytest.raises(InvalidOptionError, match="runs fp32 only, without an instruction-set cap"):
        parse_variants(text)
    assert all(variant.possible for variant in speed.default_variants())


def test_gmac_counts_convolutions_and_transposed_convolutions() -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ConvTranspose2d(8, 4, 2, stride=2))
    # 10×10 outputs × 8 channels × (3×3×3) + 10×10×8 inputs × (4×2×2)
    assert network_gmac(net, torch.zeros(1, 3, 10, 10)) * 1e9 == pytest.approx(100 * 8 * 27 + 800 * 16)


def test_table_shows_only_measured_columns() -> None:
    rows = [
        {
            "variant": "torch-fp32",
            "decompress_ms": 70.04,
            "first_call_ms": 812.3,
            "load_before": 0.5,
            "load_after": 1.25,
        }
    ]
    lines = markdown_table(rows, 24)
    assert lines[0] == "| variant | decompress ms | first call ms | load |"
    assert lines[2] == "| torch-fp32 | 70.0 | 812 | 0.5→1.2 |"


@pytest.fixture
def images(tmp_path: Path, photo: np.ndarray) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(2):
        Image.fromarray(np.roll(photo, 8 * index, axis=1)).save(folder / f"image{index}.png")
    return folder


def test_bench_speed_writes_each_variants_figures(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def worker(task: str, arguments: dict[str, object], env: dict[str, str]) -> dict[str, object]:
        figures: dict[str, dict[str, object]] = {
            "cold": {"first_call_cold_ms": 900.0},
            "kodak": {"decompress_ms": 50.0, "first_call_ms": 300.0},
            "workload": {"network": "SomeNet", "restore_gmac": 20.0, "compact_gmac": 4.5},
        }
        return {**figures.get(task, {"large_decompress_s": 4.0}), "seen_precision": env["JPEGPLUS_PRECISION"]}

    monkeypatch.setattr(speed, "_worker", worker)
    out = tmp_path / "speed"
    variants = [Variant(Runtime.TORCH, Precision.FP32), Variant(Runtime.OPENVINO, Precision.BF16)]
    lines = run_speed(images, out, variants, None, 24)
    results = json.loads((out / "results.json").read_text())
    assert [row["variant"] for row in results["variants"]] == ["torch-fp32", "openvino-bf16"]
    first = results["variants"][0]
    assert first["first_call_cold_ms"] == 900 and first["large_decompress_s"] == 4 and first["seen_precision"] == "fp32"
    assert first["network"] == "SomeNet" and first["decompress_gmac_per_s"] == pytest.approx(20.0 / 0.050)
    assert results["machine"]["simd"] == simd_flags()
    assert lines[-1].startswith("| openvino-bf16 | SomeNet | 20.0 | 50.0 |") and "24 MP decompress s" in lines[0]
    assert (out / "README.md").read_text().count("| torch-fp32 |") == 1
    run_speed(images, out, [Variant(Runtime.OPENVINO, Precision.BF16), Variant(Runtime.TORCH, Precision.BF16)], 1, 0)
    rows = json.loads((out / "results.json").read_text())["variants"]
    assert [row["variant"] for row in rows] == ["torch-fp32", "openvino-bf16", "torch-bf16"]  # one measured anew
    assert rows[0]["megapixels"] == 24 and rows[1]["megapixels"] == 0 and rows[1]["images"] == 1


def test_a_variant_that_cannot_run_keeps_the_figures_before_it_and_fails_in_one_line(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = speed.measure_variant
    figures = {"network": "SomeNet", "restore_gmac": 20.0, "compact_gmac": 4.5, "decompress_ms": 50.0}
    measured = {**figures, "load_before": 1.0, "load_after": 1.0}

    def torch_measured(variant: Variant, *arguments: Any) -> dict[str, Any]:
        return (
            {"variant": variant.name, **measured} if variant.runtime is Runtime.TORCH else measure(variant, *arguments)
        )

    monkeypatch.setattr(speed, "measure_variant", torch_measured)
    failing = [sys.executable, "-c", "import sys; sys.exit('RuntimeFailure: Module onnx is not installed!')"]
    run = subprocess.run
    monkeypatch.setattr(speed.subprocess, "run", lambda command, **kwargs: run(failing, **kwargs))
    out = tmp_path / "speed"
    variants = "torch-fp32,onnxruntime-fp32"
    result = CliRunner().invoke(app, ["bench-speed", str(images), "--out", str(out), "--variants", variants])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "jpegplus: error: bench-speed's workload measurement failed (onnxruntime runtime): "
        "RuntimeFailure: Module onnx is not installed!"
    ]
    rows = json.loads((out / "results.json").read_text())["variants"]
    assert [row["variant"] for row in rows] == ["torch-fp32"]  # measured before the failure, kept


def test_networks_multiply_the_variants_and_must_be_weights_folders(tmp_path: Path) -> None:
    variants = parse_variants("openvino-bf16,torch-fp32")
    assert with_networks(variants, []) == variants
    folder = tmp_path / "weights"
    folder.mkdir()
    with pytest.raises(InvalidOptionError, match="has no manifest.json"):
        with_networks(variants, [folder])
    (folder / "manifest.json").write_text("{}")
    timed = with_networks(variants, [folder, Path("weights")])
    assert [(v.name, v.weights) for v in timed] == [
        ("openvino-bf16", str(folder)),
        ("torch-fp32", str(folder)),
        ("openvino-bf16", "weights"),
        ("torch-fp32", "weights"),
    ]
    assert timed[0].environment()["JPEGPLUS_WEIGHTS"] == str(folder)


def test_workload_names_the_network_that_restores_its_quality_and_counts_its_gmac() -> None:
    from jpegplus.codecs.jpeg.quantization import condition_from_tables, restoration_tables
    from jpegplus.weights import get_spec, lighter

    work = speed.workload()
    condition = condition_from_tables(*restoration_tables(speed.QUALITY))
    assert work["network"] == lighter(get_spec("jpeg-artifacts"), condition).architecture.reconstructor
    known = {"LeanRestoreNet": 23.7, "SlimRestoreNet": 14.6}  # per 768×512 image (benchmarks/speed/candidates.md)
    assert work["restore_gmac"] == pytest.approx(known[work["network"]], abs=0.1)
    assert work["compact_gmac"] == pytest.approx(4.5, abs=0.1)


def test_workers_measure_the_whole_path(images: Path) -> None:
    figures = speed.measure_kodak(images, None)
    for key in ("decompress_ms", "enhance_ms", "compress_downsample_ms", "first_call_ms"):
        assert figures[key] > 0
    large = speed.measure_large(0.05)
    assert large["large_peak_rss_mb"] > 50 and large["large_mp_per_s"] > 0


def test_worker_runs_in_its_own_process(images: Path) -> None:
    env = Variant(Runtime.TORCH, Precision.FP32).environment()
    assert speed._worker("cold", {"dataset": str(images)}, env)["first_call_cold_ms"] > 0
