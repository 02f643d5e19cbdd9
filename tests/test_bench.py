from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from jpegplus.bench.bdrate import bd_rate, quality_at_rate
from jpegplus.bench.main import run_bench
from jpegplus.bench.search import plain_jpeg_at_size
from jpegplus.metrics import ms_ssim, psnr, ssim, y_psnr


def test_bd_rate_of_a_shifted_curve() -> None:
    rates, quality = [0.2, 0.4, 0.8, 1.6], [28.0, 31.0, 34.0, 37.0]
    assert bd_rate(rates, quality, rates, quality) == pytest.approx(0.0, abs=1e-9)
    assert bd_rate(rates, quality, [r * 0.7 for r in rates], quality) == pytest.approx(-30.0)
    assert quality_at_rate(rates, quality, 0.4) == pytest.approx(31.0)


def test_bd_rate_and_quality_at_rate_of_empty_curves_are_nan() -> None:
    # a benchmark whose points all lie outside the BD-rate's bpp range hands over empty curves
    assert np.isnan(bd_rate([], [], [1.0, 2.0], [30.0, 33.0]))
    assert np.isnan(quality_at_rate([], [], 1.0))


def test_metrics_agree_with_references() -> None:
    image = data.astronaut()[:200, :200]
    noisy = np.clip(image.astype(int) + np.random.default_rng(0).integers(-8, 9, image.shape), 0, 255).astype(np.uint8)
    mse = np.mean((image.astype(float) - noisy) ** 2)
    assert psnr(image, noisy) == pytest.approx(10 * np.log10(255**2 / mse))
    assert y_psnr(image[:, :, 0], noisy[:, :, 0]) == psnr(image[:, :, 0], noisy[:, :, 0])
    assert 0.5 < ssim(image, noisy) < 1.0 and 0.9 < ms_ssim(image, noisy) < 1.0
    assert ms_ssim(image, image) == pytest.approx(1.0, abs=1e-5)


def test_plain_jpeg_at_size_fits() -> None:
    image = data.astronaut()[:128, :128]
    _, size = plain_jpeg_at_size(image, 3000)
    assert size <= 3000


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("set")
    Image.fromarray(data.astronaut()[100:276, 150:326]).save(folder / "a.png")
    Image.fromarray(data.chelsea()[60:236, 100:276]).save(folder / "b.png")
    out = tmp_path_factory.mktemp("bench")
    run_bench(folder, out, "jpeg,webp", "full", True, "20,50,80", None)
    return out


def test_bench_json_schema(bench_run: Path) -> None:
    results = json.loads((bench_run / "results.json").read_text())
    assert set(results) >= {"config", "machine", "bd_rate_method", "curves", "bd_rate", "speed", "records"}
    assert set(results["curves"]) == {
        "plain-jpeg",
        "plain-webp",
        "jpeg+enhance",
        "jpegplus-jpeg-full",
        "jpegplus-webp-full",
    }
    assert len(results["records"]) == 2 * 3 * 5
    record = results["records"][0]
    assert set(record) == {"image", "curve", "codec", "quality", "bytes", "bpp", "psnr", "y_psnr", "ssim", "ms_ssim",
                           "encode_ms", "decode_ms"}  # fmt: skip
    assert record["bpp"] == pytest.approx(record["bytes"] * 8 / 176 / 176)
    assert results["bd_rate"]["plain-jpeg"]["vs_jpeg_psnr"] == pytest.approx(0.0, abs=1e-9)
    assert results["bd_rate"]["plain-webp"]["vs_own_codec_psnr"] == pytest.approx(0.0, abs=1e-9)
    assert {"torch", "threads", "bf16", "peak_rss_mb"} <= set(results["machine"])


def test_report_references_existing_files(bench_run: Path) -> None:
    page = (bench_run / "report.html").read_text()
    sources = re.findall(r'src="([^"]+)"', page)
    assert "rd_psnr.png" in sources and "crop_original.png" in sources and len(sources) >= 7
    assert all((bench_run / source).is_file() for source in sources)
    assert "<table>" in page and "jpegplus-jpeg-full" in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium package is not installed")
def test_report_renders_in_chromium(bench_run: Path, tmp_path: Path) -> None:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    url = (bench_run / "report.html").as_uri()
    dom = subprocess.run(["chromium", *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert "<table>" in dom and "BD-rate" in dom and dom.count("<img") >= 7
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,2400", url], timeout=120, check=False
    )
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.std() > 10  # tables and pictures drawn, not a blank page


def test_crossover_rate_between_two_curves() -> None:
    from jpegplus.bench.bdrate import crossover_rate

    low = ([0.1, 0.2, 0.4, 0.8], [25.0, 28.0, 30.0, 31.0])
    high = ([0.1, 0.2, 0.4, 0.8], [22.0, 26.0, 30.5, 34.0])
    assert 0.2 < crossover_rate(low, high) < 0.4
    assert np.isnan(crossover_rate(high, high))  # already equal at the lowest shared rate: the crossing is lower
    assert np.isnan(crossover_rate(high, low))  # never crosses
