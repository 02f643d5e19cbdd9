from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

import jpegplus
from conftest import psnr
from jpegplus.bench.saliency_bench import run_saliency_bench
from jpegplus.codecs import get_codec
from jpegplus.quantization import restoration_tables, standard_tables
from jpegplus.regionquant import block_coarseness, dead_zone, encode_salient
from jpegplus.saliency import saliency_map


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    return np.ascontiguousarray(data.astronaut()[::2, ::2])


def test_map_is_normalised_and_finds_the_subject(scene: np.ndarray) -> None:
    saliency = saliency_map(scene)
    assert saliency.shape == scene.shape[:2] and saliency.min() >= 0 and saliency.max() <= 1
    flat = np.full((64, 64), 128, np.uint8)
    flat[24:40, 24:40] = 255  # one bright square on a plain background
    square = saliency_map(flat)
    assert square[24:40, 24:40].mean() > 2 * square[:8, :8].mean()


def test_block_coarseness_keeps_salient_blocks() -> None:
    saliency = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    coarseness = block_coarseness(saliency, (8, 8))
    assert coarseness.min() == 0.0 and coarseness.max() == pytest.approx(1.0)
    assert coarseness[-1, -1] == 0.0 and coarseness[0, 0] == pytest.approx(1.0)
    assert np.mean(coarseness == 0.0) == pytest.approx(0.3, abs=0.02)


def test_dead_zone_keeps_dc_and_large_coefficients() -> None:
    coefficients = np.arange(-32, 32, dtype=np.int16).reshape(1, 1, 8, 8)
    coefficients[0, 0, 0, 0] = 1
    out = dead_zone(coefficients, np.array([[3.0]]))
    assert out[0, 0, 0, 0] == 1
    flat, original = out.ravel()[1:], coefficients.ravel()[1:]
    assert np.all(flat[np.abs(original) <= 3] == 0) and np.array_equal(
        flat[np.abs(original) > 3], original[np.abs(original) > 3]
    )


def test_salient_jpeg_is_smaller_and_keeps_the_subject(scene: np.ndarray) -> None:
    saliency = saliency_map(scene)
    salient = encode_salient(scene, 70, saliency, max_threshold=3.0)
    uniform = get_codec("jpeg").encode(scene, 70)
    assert len(salient) < 0.95 * len(uniform)
    decoded = get_codec("jpeg").decode(salient)
    mask = saliency >= np.quantile(saliency, 0.75)
    fine = get_codec("jpeg").decode(uniform)
    assert psnr(scene, decoded, mask) > psnr(scene, fine, mask) - 0.5
    assert psnr(scene, decoded, ~mask) < psnr(scene, fine, ~mask)


@pytest.mark.parametrize("mode", ["full", "downsample"])
def test_compress_with_saliency_decodes_everywhere(scene: np.ndarray, mode: str, tmp_path: Path) -> None:
    data_ = jpegplus.compress(scene, quality=60, mode=mode, saliency=True)
    assert psnr(jpegplus.decompress(data_), scene) > 22
    tables = restoration_tables(60) if mode == "full" else standard_tables(60)  # what each mode's model expects
    assert list(Image.open(io.BytesIO(data_)).quantization[0]) == tables[0].astype(int).tolist()
    stored = np.asarray(Image.open(io.BytesIO(data_)))
    assert cv2.imdecode(np.frombuffer(data_, np.uint8), cv2.IMREAD_COLOR).shape == stored.shape
    if shutil.which("djpeg"):
        path = tmp_path / "s.jpg"
        path.write_bytes(data_)
        ppm = subprocess.run(["djpeg", str(path)], capture_output=True, check=True).stdout
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(ppm))), stored)


@pytest.mark.skipif(shutil.which("djpeg") is None, reason="Debian's libjpeg-turbo-progs (djpeg) is not installed")
def test_djpeg_reads_region_quantized_jpeg(scene: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "s.jpg"
    path.write_bytes(encode_salient(scene, 50, saliency_map(scene)))
    assert subprocess.run(["djpeg", "-outfile", str(tmp_path / "s.ppm"), str(path)], check=False).returncode == 0


def test_other_codecs_prefilter(scene: np.ndarray) -> None:
    plain = jpegplus.compress(scene, codec="webp", quality=60, mode="full")
    salient = jpegplus.compress(scene, codec="webp", quality=60, mode="full", saliency=True)
    assert len(salient) < len(plain)


def test_saliency_bench_compares_three_files_of_one_size(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    Image.fromarray(data.astronaut()[::2, ::2]).save(folder / "a.png")
    results = run_saliency_bench(folder, tmp_path, (40,), None)
    (row,) = results["rows"]
    assert row["tables_bytes"] <= row["uniform_bytes"] and row["salient_bytes"] <= row["uniform_bytes"]
    assert row["tables_salient_psnr"] > row["uniform_salient_psnr"]  # the restoration tables keep more per byte
    summary = results["summary"]["40"]
    assert summary["images"] == 1 and summary["salient_psnr_gain_db"] == pytest.approx(
        row["salient_salient_psnr"] - row["uniform_salient_psnr"]
    )
    assert (tmp_path / "side_by_side_q40.png").exists()


def test_target_size_with_saliency_fills_the_budget(scene: np.ndarray) -> None:
    target = len(get_codec("jpeg").encode(scene, 45))
    data_ = jpegplus.compress(scene, mode="full", saliency=True, target_size=target)
    assert 0.98 * target <= len(data_) <= target  # the dead zone narrows until the spare bytes are spent
