"""Shared fixtures: small test images made here or taken from scikit-image, never from the data sets."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import numpy as np
import pytest
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

    from jpegplus import container
    from jpegplus.codecs import get_codec

    codec = get_codec("jpeg")
    payload = codec.read_payload(data)
    assert payload is not None
    fields = {**dataclasses.asdict(container.parse(payload)), "version": 1, **changes}
    ascii_payload = ";".join(f"{container.ASCII_KEYS[name]}={value}" for name, value in fields.items())
    return codec.encode(codec.decode(data), 95, payload=ascii_payload.encode())
