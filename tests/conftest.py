"""Shared fixtures: small test images made here or taken from scikit-image, never from the data sets."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from jpegplus.metrics import psnr  # noqa: F401  (the tests' one PSNR, re-exported)


@pytest.fixture(scope="session", autouse=True)
def _graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Graphs that a runtime builds from the weights go to a temporary cache, not the user's."""
    patch = pytest.MonkeyPatch()
    patch.setenv("JPEGPLUS_CACHE", str(tmp_path_factory.mktemp("graph-cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _logging_as_a_library() -> Iterator[None]:
    """Undo what a CLI test's logging set-up did (its console handler, no propagation), so every test
    sees jpegplus's loggers as a library caller does and ``caplog`` hears them."""
    yield
    logging.captureWarnings(False)
    for name in ("jpegplus", "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """A 96×128 RGB crop of scikit-image's astronaut (odd-free, tile-sized)."""
    return np.ascontiguousarray(data.astronaut()[40:136, 160:288])


@pytest.fixture(scope="session")
def gray_photo() -> np.ndarray:
    """A 80×104 gray crop of scikit-image's camera."""
    return np.ascontiguousarray(data.camera()[100:180, 200:304])


def jpeg_bytes(image: np.ndarray, quality: int, **options: object) -> bytes:
    """A plain Pillow JPEG."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, **options)
    return buffer.getvalue()


def retag(data: bytes, **changes: object) -> bytes:
    """Re-encode a jpegplus JPEG with metadata fields edited, unchecked (a tampered but valid JPEG).

    The edited payload is written in format 1 (``key=value``), which carries any value.
    """
    import dataclasses

    from jpegplus import payload
    from jpegplus.codecs import get_codec

    codec = get_codec("jpeg")
    record = codec.read_payload(data)
    assert record is not None
    fields = {**dataclasses.asdict(payload.parse(record)), "version": 1, **changes}
    ascii_payload = ";".join(f"{payload.ASCII_KEYS[name]}={value}" for name, value in fields.items())
    return codec.attach(codec.encode(codec.decode(data), 95), ascii_payload.encode())


def randomised(net: torch.nn.Module) -> torch.nn.Module:
    """``net`` in eval mode with seeded random weights (a trained-like net for backend comparisons)."""
    torch.manual_seed(0)
    for parameter in net.parameters():
        torch.nn.init.normal_(parameter, std=0.05)
    return net.eval()


@pytest.fixture()
def own_graph_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty graph cache for this test only."""
    monkeypatch.setenv("JPEGPLUS_CACHE", str(tmp_path))
    return tmp_path


@torch.no_grad()
def assert_runs_like_pytorch_at_any_size(compiled: object, net: torch.nn.Module) -> None:
    """``compiled`` (a backend's inference form of ``net``) matches ``net`` in fp32 off and on its grid."""
    for height, width in ((37, 53), (96, 64)):  # off the grid: padded and cropped around the graph
        image, condition = torch.rand(2, 3, height, width), torch.tensor([[0.2, 0.3], [0.7, 0.8]])
        out = compiled(image.contiguous(memory_format=torch.channels_last), condition)  # type: ignore[operator]
        assert out.shape == image.shape and out.dtype == torch.float32
        assert torch.allclose(out, net(image, condition), atol=1e-5)
    assert net.frozen is None  # type: ignore[attr-defined]  # the network itself is untouched
