from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jpegplus import weights
from jpegplus.errors import WeightsError


@pytest.fixture()
def weights_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(weights.weights_dir(), tmp_path / "w")
    monkeypatch.setenv("JPEGPLUS_WEIGHTS", str(tmp_path / "w"))
    weights.load_model.cache_clear()
    yield tmp_path / "w"
    weights.load_model.cache_clear()


def test_manifest_entries_have_cards_and_sha8_names() -> None:
    for spec in weights.read_manifest().values():
        assert spec.file == f"{spec.name}-{spec.sha256[:8]}.safetensors"
        assert (weights.weights_dir() / spec.card).is_file()


def test_loads_and_builds() -> None:
    model = weights.load_model("jpeg-downsample")
    assert model.compact is not None and model.spec.model_id.startswith("jpeg-downsample@")
    assert weights.load_model("jpeg-artifacts").compact is None


def test_corrupt_file(weights_copy: Path) -> None:
    spec = weights.get_spec("jpeg-artifacts")
    blob = bytearray((weights_copy / spec.file).read_bytes())
    blob[-1] ^= 0xFF
    (weights_copy / spec.file).write_bytes(bytes(blob))
    with pytest.raises(WeightsError, match="corrupt"):
        weights.load_model("jpeg-artifacts")


def test_missing_file(weights_copy: Path) -> None:
    (weights_copy / weights.get_spec("jpeg-artifacts").file).unlink()
    with pytest.raises(WeightsError, match="missing"):
        weights.load_model("jpeg-artifacts")


def test_unknown_model_and_bad_manifest(weights_copy: Path) -> None:
    with pytest.raises(WeightsError, match="unknown model 'nope'"):
        weights.load_model("nope")
    (weights_copy / "manifest.json").write_text(json.dumps({"x": {"file": 1}}))
    with pytest.raises(WeightsError, match="malformed"):
        weights.read_manifest()


def test_unknown_architecture(weights_copy: Path) -> None:
    manifest = json.loads((weights_copy / "manifest.json").read_text())
    manifest["jpeg-artifacts"]["architecture"] = "Transformer9000"
    (weights_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="unknown architecture 'Transformer9000'"):
        weights.load_model("jpeg-artifacts")
