"""A per-user cache of graphs built from the weights: keyed by their digest, published atomically.

Each entry is a folder written under a temporary name and renamed into place, so a reader sees a
whole entry or none, and two processes building the same entry at once both succeed (the second
rename loses and its copy is removed).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

log = logging.getLogger(__name__)

CACHE_VARIABLE = "JPEGPLUS_CACHE"


def cache_dir() -> Path:
    """``$JPEGPLUS_CACHE``, else ``$XDG_CACHE_HOME/jpegplus``, else ``~/.cache/jpegplus``."""
    override = os.environ.get(CACHE_VARIABLE)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "jpegplus"


def weights_digest(net: torch.nn.Module) -> str:
    """SHA-256 of a network's class, tensor names, shapes and values: what its graph depends on."""
    digest = hashlib.sha256(type(net).__name__.encode())
    for name, tensor in net.state_dict().items():
        value = tensor.detach().to(device="cpu", dtype=torch.float32).contiguous()
        digest.update(f"{name}{tuple(value.shape)}".encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()


def cached_entry(folder: Path, build: Callable[[Path], None]) -> Path | None:
    """``folder``, written by ``build(temporary folder)`` when absent; ``None`` when it cannot be written."""
    if folder.is_dir():
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as error:
        log.info("graph cache %s is not writable (%s); building in memory", folder.parent, error)
        return None
    try:
        build(staging)
        os.rename(staging, folder)
    except OSError:
        if not folder.is_dir():  # not a lost race with another process: a real failure
            log.info("cannot write graph cache entry %s; building in memory", folder)
            return None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
