"""Weights are data with a checksum: safetensors files listed in ``weights/manifest.json``.

Each entry names the file (which carries the first 8 hex digits of its SHA-256), the full
digest checked before loading, the architecture, what the model was trained for and, when the model is
worse than the plain decode above some codec quality, the ``highest_quality`` it is run at.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors

from jpegplus.errors import WeightsError
from jpegplus.models import RECONSTRUCTORS, ComCNN

MANIFEST = "manifest.json"


def weights_dir() -> Path:
    """``$JPEGPLUS_WEIGHTS`` or the ``weights/`` folder beside the package."""
    override = os.environ.get("JPEGPLUS_WEIGHTS")
    return Path(override) if override else Path(__file__).resolve().parent.parent / "weights"


@dataclass(frozen=True)
class WeightsSpec:
    """One manifest entry."""

    name: str
    file: str
    sha256: str
    architecture: str
    card: str
    highest_quality: int = 100  # above it the network is not run: the plain decode measured better

    @property
    def model_id(self) -> str:
        """``name@sha8``, the id written into every file the model made."""
        return f"{self.name}@{self.sha256[:8]}"


@dataclass(frozen=True)
class LoadedModel:
    """The networks of one weights file, in eval mode."""

    spec: WeightsSpec
    reconstruct: torch.nn.Module
    compact: ComCNN | None


def read_manifest(folder: Path | None = None) -> dict[str, WeightsSpec]:
    """Every weights entry of the manifest, by name."""
    path = (folder or weights_dir()) / MANIFEST
    try:
        entries = json.loads(path.read_text())
        return {name: WeightsSpec(name=name, **entry) for name, entry in entries.items()}
    except FileNotFoundError:
        msg = f"no weights manifest at {path}; reinstall jpegplus or set JPEGPLUS_WEIGHTS"
        raise WeightsError(msg) from None
    except (ValueError, TypeError) as error:
        msg = f"weights manifest {path} is malformed: {error}"
        raise WeightsError(msg) from None


def get_spec(name: str) -> WeightsSpec:
    """The manifest entry ``name``; unknown names list the known ones."""
    manifest = read_manifest()
    if name not in manifest:
        msg = f"unknown model {name!r}; installed models: {', '.join(sorted(manifest)) or 'none'}"
        raise WeightsError(msg)
    return manifest[name]


@functools.cache
def load_model(name: str) -> LoadedModel:
    """Load, digest-check and build the networks of weights ``name`` (cached per process)."""
    spec = get_spec(name)
    path = weights_dir() / spec.file
    try:
        blob = path.read_bytes()
    except OSError:
        msg = f"weights file {path} is missing; reinstall jpegplus or set JPEGPLUS_WEIGHTS"
        raise WeightsError(msg) from None
    digest = hashlib.sha256(blob).hexdigest()
    if digest != spec.sha256:
        msg = f"weights file {path} is corrupt: SHA-256 {digest[:8]}… does not match the manifest's {spec.sha256[:8]}…"
        raise WeightsError(msg)
    try:
        tensors = load_safetensors(blob)
    except SafetensorError as error:
        msg = f"weights file {path} is not valid safetensors: {error}"
        raise WeightsError(msg) from None
    *front, back = spec.architecture.split("+")
    if back not in RECONSTRUCTORS or front not in ([], ["ComCNN"]):
        msg = f"weights {spec.file} have an unknown architecture {spec.architecture!r}; upgrade jpegplus"
        raise WeightsError(msg)
    reconstruct = _build(RECONSTRUCTORS[back](), tensors, "rec.")
    compact = _build(ComCNN(), tensors, "com.") if front else None
    return LoadedModel(spec, reconstruct, compact)


def _build(net: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str) -> torch.nn.Module:
    state = {key[len(prefix) :]: value.float() for key, value in tensors.items() if key.startswith(prefix)}
    try:
        net.load_state_dict(state)
    except RuntimeError as error:
        msg = f"weights do not fit {type(net).__name__}: {str(error).splitlines()[0]}"
        raise WeightsError(msg) from None
    return net.eval().requires_grad_(False).to(memory_format=torch.channels_last)
