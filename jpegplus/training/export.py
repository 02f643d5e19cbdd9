"""Turn a training checkpoint into shippable fp16 safetensors listed in the weights manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load, save

from jpegplus.errors import InvalidOptionError
from jpegplus.io import write_atomic
from jpegplus.weights import MANIFEST, Architecture

LIGHT_SUFFIX = "-light"  # a lighter stand-in for the kind before the suffix (--lowest-quality)
DEFAULT_ARCHITECTURES = {"artifact_net": "RecCNN", "down_net": "RecCNN"}  # checkpoints that do not name theirs
# model kind → (compact net, checkpoint entry of the reconstructor, {tensor prefix: checkpoint entry})
ARTIFACT_NET = (None, "artifact_net", {"rec.": "artifact_net"})
EXPORTS = {
    "artifacts": ARTIFACT_NET,
    "enhance": ARTIFACT_NET,  # an artifact model trained with --legacy
    "downsample": ("ComCNN", "down_net", {"com.": "com_net", "rec.": "down_net"}),
    **{kind + LIGHT_SUFFIX: ARTIFACT_NET for kind in ("artifacts", "enhance")},
}


def export(
    checkpoint: Path,
    out_dir: Path,
    kinds: list[str],
    highest_quality: int | None = None,
    crossover_bpp: float | None = None,
    lowest_quality: int | None = None,
    *,
    keep_replaced: bool = False,
    trellis: bool = False,
    trellis_highest_quality: int | None = None,
) -> dict[str, str]:
    """Write ``<codec>-<kind>-<sha8>.safetensors`` per kind and update the manifest; returns name → file.

    ``highest_quality``: the highest codec quality at which the model measured better than the plain
    decode (held-out photos), when below 100; decompress passes the plain decode through above it.
    ``crossover_bpp``: for an artifact model, the rate below which auto also tries the half-resolution
    path (where the full and downsample curves of ``jpegplus bench`` cross; see :class:`jpegplus.weights.WeightsSpec`).
    ``lowest_quality``: for the ``-light`` kinds, the lowest codec quality from which it stands in for the
    codec's model of the kind before the suffix (:func:`jpegplus.weights.lighter`).
    ``keep_replaced``: a model that files name replaced by another stays in the manifest under its id, with its
    stand-in (:func:`jpegplus.weights.retired`); so does one whose stand-in (a ``-light`` kind) is replaced, and
    the installed model gets a new id: its tensors in a file naming the new stand-in. ``trellis``: the models were
    trained on trellis-quantized files, so compress writes the files they restore that way (up to
    ``trellis_highest_quality``, above which their training files were rounded:
    :meth:`jpegplus.weights.WeightsSpec.trellis_at`).
    """
    unknown = [kind for kind in kinds if kind not in EXPORTS]
    if unknown:
        msg = f"unknown model kind {unknown[0]!r}; choose from {', '.join(EXPORTS)}"
        raise InvalidOptionError(msg)
    payload = torch.load(checkpoint, weights_only=True, map_location="cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    written = {}
    for kind in kinds:
        name = f"{payload.get('codec', 'jpeg')}-{kind}"
        compact, reconstructor, parts = EXPORTS[kind]
        classes = {**DEFAULT_ARCHITECTURES, **payload.get("architectures", {})}
        architecture = str(Architecture(classes[reconstructor], compact))
        tensors = {
            prefix + key: value.to(torch.float16).contiguous()
            for prefix, entry in parts.items()
            for key, value in exported_weights(payload, entry).items()
        }
        file, digest = _write_weights(out_dir, name, tensors, f"{name} {architecture}")
        light = kind.endswith(LIGHT_SUFFIX)
        lightens = f"{payload.get('codec', 'jpeg')}-{kind.removesuffix(LIGHT_SUFFIX)}" if light else None
        if keep_replaced and manifest.get(name, {}).get("sha256", digest) != digest:
            if lightens is None:
                _retire(manifest, name)
            elif lightens in manifest and lightens not in written:  # a model exported with it made no files yet
                _retire(manifest, lightens)
                _rebind(out_dir, manifest, lightens, f"{name}@{digest[:8]}")
        manifest[name] = {"file": file, "sha256": digest, "architecture": architecture, "card": f"{name}.md"}
        measured: dict[str, object] = {
            "highest_quality": highest_quality,
            "crossover_bpp": crossover_bpp,
            "trellis": trellis or None,
            "trellis_highest_quality": trellis_highest_quality if trellis else None,
        }
        if light:
            measured.update(lightens=lightens, lowest_quality=lowest_quality or 100)
        manifest[name].update({key: value for key, value in measured.items() if value is not None})
        written[name] = file
    write_atomic(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), force=True)
    return written


def exported_weights(payload: dict, entry: str) -> dict[str, torch.Tensor]:
    """A checkpoint's weights of one network (``"artifact_net"``...): their running average while a stage
    that averages them is under way, else the network's own."""
    average = payload.get("average")
    if average is None or average["network"] != entry:
        return payload[entry]
    state = average["state"]
    return {key.removeprefix("module."): value for key, value in state.items() if key.startswith("module.")}


def _write_weights(out_dir: Path, name: str, tensors: dict[str, torch.Tensor], description: str) -> tuple[str, str]:
    """Write ``tensors`` as ``<name>-<sha8>.safetensors``; returns the file name and the full digest."""
    # one metadata entry: safetensors writes several in a random order, and the file name carries the digest
    blob = save(tensors, metadata={"model": description})
    digest = hashlib.sha256(blob).hexdigest()
    file = f"{name}-{digest[:8]}.safetensors"
    write_atomic(out_dir / file, blob, force=True)
    return file, digest


def _rebind(out_dir: Path, manifest: dict[str, dict[str, Any]], name: str, stand_in_id: str) -> None:
    """Give the model ``name`` a new id for its new stand-in ``stand_in_id``: the same tensors in a file whose
    metadata names the stand-in, so files it makes from now on are told from those its old id restores."""
    entry = manifest[name]
    tensors = load((out_dir / entry["file"]).read_bytes())
    file, digest = _write_weights(out_dir, name, tensors, f"{name} {entry['architecture']} with {stand_in_id}")
    manifest[name] = {**entry, "file": file, "sha256": digest}


def _retire(manifest: dict[str, dict[str, Any]], name: str) -> None:
    """Keep the entry ``name`` and its stand-in's under their ids (``name@sha8``), the stand-in lightening the id;
    the codec's enhance model keeps the artifact model it was measured with (``artifacts`` of its entry) until
    an enhance model is exported again."""
    retired_id = f"{name}@{manifest[name]['sha256'][:8]}"
    manifest[retired_id] = manifest[name]
    codec, _, kind = name.partition("-")
    enhance = manifest.get(f"{codec}-enhance")
    if kind == "artifacts" and enhance is not None:
        enhance.setdefault("artifacts", retired_id)
    for light, entry in list(manifest.items()):
        if entry.get("lightens") == name:
            kept = f"{light}@{entry['sha256'][:8]}"
            if manifest.get(kept, {}).get("lightens", retired_id) != retired_id:
                kept = f"{kept}-for-{retired_id}"  # the same stand-in already kept for an earlier replaced model
            manifest[kept] = {**entry, "lightens": retired_id}
