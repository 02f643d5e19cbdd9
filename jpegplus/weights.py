"""Weights are data with a checksum: safetensors files listed in ``weights/manifest.json``.

Each entry, named ``<codec>-<kind>``, gives the file (which carries the first 8 hex digits of its
SHA-256), the full digest checked before loading, the architecture (:class:`Architecture`), the
model card and what was measured on held-out photos with these weights: ``highest_quality`` and,
for a full-mode model, ``crossover_bpp``, and ``trellis`` where compress quantizes the files the network
restores by trellis (it was trained on such files; up to ``trellis_highest_quality``:
:meth:`WeightsSpec.trellis_at`). A lighter network may stand in for a model on files compressed at or above a
quality (``lightens``, ``lowest_quality``: :func:`lighter`). A model that files name, once replaced, or
once its stand-in is, stays under its id ``<codec>-<kind>@<sha8>`` (with its stand-in, whose ``lightens``
names that id), so the files it made decode as they did (:func:`retired`); a new stand-in gives the model a
new id (its file names the stand-in: ``jpegplus export --keep-replaced``). :func:`select`, :func:`retired`
and :func:`lighter` are the places that pick a model.
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

from jpegplus.codecs import CodecName
from jpegplus.codecs.jpeg.quantization import condition_from_quality
from jpegplus.errors import WeightsError
from jpegplus.models import RECONSTRUCTORS, ComCNN
from jpegplus.modes import Mode
from jpegplus.runtime import M, channels_last

MANIFEST = "manifest.json"
COMPACT_NETS = {"ComCNN": ComCNN}
KINDS = {Mode.DOWNSAMPLE: "downsample", Mode.FULL: "artifacts"}  # the model kind of each stored mode
ENHANCE_KIND = "enhance"  # a JPEG artifact model trained for ordinary (libjpeg, jpegli) files
FALLBACK_CODEC = CodecName.JPEG.value  # its models serve every codec without its own


WEIGHTS_VARIABLE = "JPEGPLUS_WEIGHTS"


def weights_dir() -> Path:
    """``$JPEGPLUS_WEIGHTS``, else the weights an installed wheel carries (``jpegplus/weights_data``, see
    setup.py), else the ``weights/`` folder of the source tree (a checkout or an editable install)."""
    override = os.environ.get(WEIGHTS_VARIABLE)
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent
    installed = package / "weights_data"
    return installed if installed.is_dir() else package.parent / "weights"


@dataclass(frozen=True)
class Architecture:
    """The networks of a weights file, written ``"ComCNN+LeanRestoreNet"`` (compact net + reconstructor)
    or ``"RestoreNet"`` (reconstructor alone, for full-resolution files)."""

    reconstructor: str
    compact: str | None = None

    @classmethod
    def parse(cls, text: str) -> Architecture:
        """Read the manifest's notation; whether jpegplus has the networks is checked when loading."""
        if not isinstance(text, str):
            msg = f"an architecture is a string, got {text!r}"
            raise TypeError(msg)
        compact, _, reconstructor = text.rpartition("+")
        return cls(reconstructor, compact or None)

    def __str__(self) -> str:
        return f"{self.compact}+{self.reconstructor}" if self.compact else self.reconstructor


@dataclass(frozen=True)
class WeightsSpec:
    """One manifest entry."""

    name: str
    file: str
    sha256: str
    architecture: Architecture
    card: str
    highest_quality: int = 100  # above it the network is not run: the plain decode measured better
    # full mode: below this rate the half-resolution path of the same codec can reconstruct better for the
    # same bytes, so auto tries both (where the RD curves cross, `crossover_bpp` of `jpegplus bench`); 0: never
    crossover_bpp: float = 0.0
    # a lighter network standing in for the model ``lightens`` names on files of ``lowest_quality`` and
    # above, where it measured as good on held-out photos (:func:`lighter`)
    lightens: str | None = None
    lowest_quality: int = 100
    # trained on trellis-quantized files: compress quantizes the files this network will restore by trellis
    trellis: bool = False
    trellis_highest_quality: int = 100  # ... on files at most as fine as libjpeg's standard table at this quality
    # an enhance model: the artifact model (a name or a retired id) it runs where its own measured worse, the
    # one it was measured with; none: the codec's current full-mode model (:func:`select_enhance_artifacts`)
    artifacts: str | None = None

    @property
    def model_id(self) -> str:
        """``name@sha8``, the id written into every file the model made (a retired entry's name is its id)."""
        return f"{self.name.partition('@')[0]}@{self.sha256[:8]}"

    def trellis_at(self, condition: tuple[float, float]) -> bool:
        """Whether compress quantizes a file of ``condition`` by trellis for this network: it was trained on
        trellis files, and the file's luma quantization is at least as coarse as libjpeg's standard table at
        ``trellis_highest_quality`` (finer files were rounded in its training, as for networks without trellis)."""
        return self.trellis and condition[0] >= condition_from_quality(self.trellis_highest_quality)[0]

    def serves(self, codec: str, mode: Mode) -> bool:
        """Whether the model may restore ``codec`` files stored in ``mode``: it is the codec's own or a JPEG
        model, and it has a compact net exactly when the mode is the half-resolution one."""
        fits = (self.architecture.compact is not None) == (mode is Mode.DOWNSAMPLE)
        return fits and self.name.partition("-")[0] in (codec, FALLBACK_CODEC)


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
        return {
            name: WeightsSpec(name=name, **{**entry, "architecture": Architecture.parse(entry["architecture"])})
            for name, entry in entries.items()
        }
    except FileNotFoundError:
        msg = f"no weights manifest at {path}; reinstall jpegplus or set JPEGPLUS_WEIGHTS"
        raise WeightsError(msg) from None
    except (KeyError, ValueError, TypeError) as error:
        msg = f"weights manifest {path} is malformed: {error}"
        raise WeightsError(msg) from None


def get_spec(name: str) -> WeightsSpec:
    """The manifest entry ``name``; unknown names list the known ones."""
    manifest = read_manifest()
    if name not in manifest:
        msg = f"unknown model {name!r}; installed models: {', '.join(sorted(manifest)) or 'none'}"
        raise WeightsError(msg)
    return manifest[name]


def select(codec: str, mode: Mode) -> WeightsSpec:
    """The model for ``codec`` files stored in ``mode`` (downsample or full): the codec's own, else JPEG's."""
    manifest = read_manifest()
    own = f"{codec}-{KINDS[mode]}"
    return manifest[own] if own in manifest else get_spec(f"{FALLBACK_CODEC}-{KINDS[mode]}")


def retired(model_id: str) -> WeightsSpec | None:
    """The replaced model ``model_id`` (``name@sha8``), where the manifest keeps it for the files it made."""
    return read_manifest().get(model_id) if "@" in model_id else None


def select_enhance() -> WeightsSpec:
    """The post-filter for ordinary JPEGs: its own model where installed, else the JPEG artifact model."""
    manifest = read_manifest()
    own = f"{FALLBACK_CODEC}-{ENHANCE_KIND}"
    return manifest[own] if own in manifest else select(FALLBACK_CODEC, Mode.FULL)


def select_enhance_artifacts() -> WeightsSpec:
    """The artifact model enhance runs where its own networks measured worse (gray files with libjpeg's tables,
    4:4:4 and blind light pixels): the one enhance's entry names, else JPEG's full-mode model."""
    paired = select_enhance().artifacts
    return get_spec(paired) if paired else select(FALLBACK_CODEC, Mode.FULL)


def stand_in(spec: WeightsSpec) -> WeightsSpec | None:
    """The manifest's lighter network standing in for ``spec`` on light files, if it has one."""
    return next((entry for entry in read_manifest().values() if entry.lightens == spec.name), None)


def lighter(spec: WeightsSpec, condition: tuple[float, float]) -> WeightsSpec:
    """The network that restores a file of ``condition`` for ``spec``: its :func:`stand_in` when the file's
    luma quantization is at most as coarse as libjpeg's standard table at the stand-in's ``lowest_quality``,
    else ``spec``."""
    light = stand_in(spec)
    if light is not None and condition[0] <= condition_from_quality(light.lowest_quality)[0]:
        return light
    return spec


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
    architecture = spec.architecture
    if architecture.reconstructor not in RECONSTRUCTORS or architecture.compact not in (None, *COMPACT_NETS):
        msg = f"weights {spec.file} have an unknown architecture {str(architecture)!r}; upgrade jpegplus"
        raise WeightsError(msg)
    reconstruct = _build(RECONSTRUCTORS[architecture.reconstructor](), tensors, "rec.")
    compact = _build(COMPACT_NETS[architecture.compact](), tensors, "com.") if architecture.compact else None
    return LoadedModel(spec, reconstruct, compact)


def _build(net: M, tensors: dict[str, torch.Tensor], prefix: str) -> M:
    state = {key[len(prefix) :]: value.float() for key, value in tensors.items() if key.startswith(prefix)}
    try:
        net.load_state_dict(state)
    except RuntimeError as error:
        msg = f"weights do not fit {type(net).__name__}: {str(error).splitlines()[0]}"
        raise WeightsError(msg) from None
    return channels_last(net.eval().requires_grad_(False))
