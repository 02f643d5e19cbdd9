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
from jpegplus.bench.saliency_bench import masked_psnr
from jpegplus.codecs import get_codec
from jpegplus.regionquant import block_factors, encode_salient, requantize
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


def test_block_factors_keep_salient_blocks_fine() -> None:
    saliency = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    factors = block_factors(saliency, (8, 8), 5.0)
    assert factors.min() == 1.0 and factors.max() == pytest.approx(5.0)
    assert factors[-1, -1] == 1.0 and factors[0, 0] == pytest.approx(5.0)


def test_requantize_keeps_dc_and_makes_multiples() -> None:
    coefficients = np.arange(-32, 32, dtype=np.int16).reshape(1, 1, 8, 8)
    out = requantize(coefficients, np.array([[3.0]]))
    assert out[0, 0, 0, 0] == coefficients[0, 0, 0, 0]
    assert np.all(out.ravel()[1:] % 3 == 0)


def test_salient_jpeg_is_smaller_and_keeps_the_subject(scene: np.ndarray) -> None:
    saliency = saliency_map(scene)
    salient = encode_salient(scene, 70, saliency, max_factor=6.0)
    uniform = get_codec("jpeg").encode(scene, 70)
    assert len(salient) < 0.95 * len(uniform)
    decoded = get_codec("jpeg").decode(salient)
    mask = saliency >= np.quantile(saliency, 0.75)
    fine = get_codec("jpeg").decode(uniform)
    assert masked_psnr(scene, decoded, mask) > masked_psnr(scene, fine, mask) - 0.5
    assert masked_psnr(scene, decoded, ~mask) < masked_psnr(scene, fine, ~mask)


@pytest.mark.parametrize("mode", ["full", "downsample"])
def test_compress_with_saliency_decodes_everywhere(scene: np.ndarray, mode: str, tmp_path: Path) -> None:
    data_ = jpegplus.compress(scene, quality=60, mode=mode, saliency=True)
    assert psnr(jpegplus.decompress(data_), scene) > 22
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
