from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import assert_runs_like_pytorch_at_any_size, psnr, randomised
from jpegplus import pipeline
from jpegplus.models import ComCNN, RecCNN, RestoreNet
from jpegplus.runtime import Precision

openvino_net = pytest.importorskip("jpegplus.backends.openvino_net", reason="the openvino extra is not installed")


pytestmark = pytest.mark.usefixtures("own_graph_cache")


@torch.no_grad()
@pytest.mark.parametrize("make", [lambda: RestoreNet(widths=(8, 16), pairs=1), lambda: RecCNN(channels=8, pairs=1)])
def test_reconstruction_matches_pytorch_at_any_size(make: object) -> None:
    net = randomised(make())  # type: ignore[operator]
    assert_runs_like_pytorch_at_any_size(openvino_net.compile_net(net, Precision.FP32), net)


@torch.no_grad()
def test_comcnn_matches_pytorch_in_bf16() -> None:
    net = randomised(ComCNN(channels=8))
    image = torch.rand(1, 3, 34, 50)
    out = openvino_net.compile_net(net, Precision.BF16)(image)
    assert out.shape == (1, 3, 17, 25)
    assert (out - net(image)).abs().max() < 2e-2


def test_graph_is_cached_and_read_back(monkeypatch: pytest.MonkeyPatch, own_graph_cache: Path) -> None:
    net = randomised(RecCNN(channels=8, pairs=1))
    openvino_net.graph(net)
    assert len(list(own_graph_cache.glob("openvino-*/RecCNN-*/model.xml"))) == 1

    def fail(_: torch.nn.Module) -> None:
        msg = "converted again"
        raise AssertionError(msg)

    monkeypatch.setattr(openvino_net, "convert", fail)
    image, condition = torch.rand(1, 3, 16, 16), torch.tensor([[0.5, 0.5]])
    with torch.no_grad():
        out = openvino_net.compile_net(net, Precision.FP32)(image, condition)
        assert torch.allclose(out, net(image, condition), atol=1e-5)


def test_unwritable_cache_still_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("JPEGPLUS_CACHE", str(blocker))
    net = randomised(ComCNN(channels=4))
    image = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(openvino_net.compile_net(net, Precision.FP32)(image), net(image), atol=1e-5)


@pytest.mark.parametrize("mode", ["full", "downsample"])
def test_decompress_agrees_with_pytorch_within_bf16_rounding(
    monkeypatch: pytest.MonkeyPatch, photo: np.ndarray, mode: str
) -> None:
    data = pipeline.compress(photo, quality=30, mode=mode)
    decoded = {}
    for runtime, precision in (("torch", "fp32"), ("openvino", "fp32"), ("openvino", "bf16")):
        monkeypatch.setenv("JPEGPLUS_RUNTIME", runtime)
        monkeypatch.setenv("JPEGPLUS_PRECISION", precision)
        decoded[runtime, precision] = pipeline.decompress(data).astype(np.int16)
    reference = decoded["torch", "fp32"]
    assert np.abs(decoded["openvino", "fp32"] - reference).max() <= 1  # Kodak: identical code values
    difference = np.abs(decoded["openvino", "bf16"] - reference)
    assert difference.mean() < 0.3 and difference.max() <= 3  # Kodak: mean 0.08-0.11, max 2
    assert psnr(decoded["openvino", "bf16"], photo) == pytest.approx(psnr(reference, photo), abs=0.02)
