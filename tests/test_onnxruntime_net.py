from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import assert_runs_like_pytorch_at_any_size, randomised
from jpegplus import pipeline
from jpegplus.models import ComCNN, RecCNN, RestoreNet
from jpegplus.runtime import Runtime

onnxruntime_net = pytest.importorskip(
    "jpegplus.backends.onnxruntime_net", reason="the onnxruntime extra is not installed"
)


pytestmark = pytest.mark.usefixtures("own_graph_cache")


@torch.no_grad()
@pytest.mark.parametrize("make", [lambda: RestoreNet(widths=(8, 16), pairs=(1,)), lambda: RecCNN(channels=8, pairs=1)])
def test_reconstruction_matches_pytorch_at_any_size(make: object) -> None:
    net = randomised(make())  # type: ignore[operator]
    assert_runs_like_pytorch_at_any_size(onnxruntime_net.compile_net(net), net)


@torch.no_grad()
def test_comcnn_matches_pytorch() -> None:
    net = randomised(ComCNN(channels=8))
    image = torch.rand(1, 3, 34, 50)
    out = onnxruntime_net.compile_net(net)(image)
    assert out.shape == (1, 3, 17, 25)
    assert torch.allclose(out, net(image), atol=1e-5)


def test_graph_is_cached_and_read_back(monkeypatch: pytest.MonkeyPatch, own_graph_cache: Path) -> None:
    net = randomised(RecCNN(channels=8, pairs=1))
    first = onnxruntime_net.graph(net)
    assert len(list(own_graph_cache.glob("onnx-torch*/RecCNN-*/model.onnx"))) == 1

    def fail(_: torch.nn.Module, __: Path) -> None:
        msg = "exported again"
        raise AssertionError(msg)

    monkeypatch.setattr(onnxruntime_net, "export", fail)
    assert onnxruntime_net.graph(net) == first


def test_forced_onnxruntime_decompresses_like_pytorch(monkeypatch: pytest.MonkeyPatch, photo: np.ndarray) -> None:
    data = pipeline.compress(photo, quality=30, mode="full")
    monkeypatch.setenv("JPEGPLUS_PRECISION", "fp32")
    monkeypatch.setenv("JPEGPLUS_RUNTIME", Runtime.TORCH.value)
    reference = pipeline.decompress(data).astype(int)
    monkeypatch.setenv("JPEGPLUS_RUNTIME", Runtime.ONNXRUNTIME.value)
    restored = pipeline.decompress(data).astype(int)
    assert np.abs(restored - reference).max() <= 1  # fp32 in both: rounding of the last bit at most
