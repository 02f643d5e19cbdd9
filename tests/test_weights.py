from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jpegplus import compress, decompress, weights
from jpegplus.codecs import CodecName
from jpegplus.errors import WeightsError
from jpegplus.modes import Mode


@pytest.fixture()
def weights_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(weights.weights_dir(), tmp_path / "w")
    monkeypatch.setenv("JPEGPLUS_WEIGHTS", str(tmp_path / "w"))
    weights.load_model.cache_clear()
    yield tmp_path / "w"
    weights.load_model.cache_clear()


def test_manifest_entries_have_cards_and_sha8_names() -> None:
    for name, spec in weights.read_manifest().items():
        assert spec.file == f"{name.partition('@')[0]}-{spec.sha256[:8]}.safetensors"
        # a replaced model is kept under its id; a stand-in kept for a second one says for which
        assert "@" not in name or name.partition("-for-")[0] == spec.model_id
        assert (weights.weights_dir() / spec.card).is_file()


def test_every_kept_artifact_model_keeps_a_stand_in() -> None:
    # files of a kept model decode with the pair they were made for, light ones included
    kept = [spec for name, spec in weights.read_manifest().items() if "@" in name and spec.lightens is None]
    assert any(spec.name.startswith("jpeg-artifacts@") for spec in kept)
    for spec in kept:
        assert not spec.name.startswith("jpeg-artifacts@") or weights.stand_in(spec) is not None


def test_loads_and_builds() -> None:
    model = weights.load_model("jpeg-downsample")
    assert model.compact is not None and model.spec.model_id.startswith("jpeg-downsample@")
    assert weights.load_model("jpeg-artifacts").compact is None


def test_manifest_without_highest_quality_runs_the_network_at_every_quality() -> None:
    assert weights.get_spec("jpeg-artifacts").highest_quality == 100


def test_trellis_stops_at_its_highest_quality() -> None:
    from jpegplus.codecs.jpeg.quantization import condition_from_quality

    spec = weights.get_spec("jpeg-artifacts")
    limited = dataclasses.replace(spec, trellis=True, trellis_highest_quality=60)
    assert limited.trellis_at(condition_from_quality(60)) and limited.trellis_at(condition_from_quality(10))
    assert not limited.trellis_at(condition_from_quality(61))
    assert dataclasses.replace(limited, trellis_highest_quality=100).trellis_at(condition_from_quality(100))
    assert not dataclasses.replace(limited, trellis=False).trellis_at(condition_from_quality(10))


def test_above_highest_quality_decompress_returns_the_plain_decode(weights_copy: Path) -> None:
    manifest = json.loads((weights_copy / "manifest.json").read_text())
    manifest["jpeg-artifacts"]["highest_quality"] = 50
    (weights_copy / "manifest.json").write_text(json.dumps(manifest))
    rng = np.random.default_rng(0)
    image = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    for quality, passed_through in ((50, False), (51, True)):
        data = compress(image, codec="jpeg", quality=quality, mode="full")
        plain = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert np.array_equal(decompress(data), plain) is passed_through


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


def test_each_codec_gets_its_own_models_else_jpegs_and_its_crossover_rate() -> None:
    chosen = {
        codec.value: (weights.select(codec.value, Mode.FULL), weights.select(codec.value, Mode.DOWNSAMPLE))
        for codec in CodecName
    }
    assert {codec: (full.name, down.name, full.crossover_bpp) for codec, (full, down) in chosen.items()} == {
        "jpeg": ("jpeg-artifacts", "jpeg-downsample", 0.24),
        "webp": ("webp-artifacts", "jpeg-downsample", 0.32),
        "jpeg2000": ("jpeg2000-artifacts", "jpeg-downsample", 0.0),
        "avif": ("avif-artifacts", "jpeg-downsample", 0.0),
    }
    assert weights.select_enhance().name == "jpeg-enhance"
    assert weights.stand_in(weights.select_enhance()).name == "jpeg-enhance-light"
    assert weights.get_spec("jpeg-downsample").architecture == weights.Architecture("LeanRestoreNet", "ComCNN")


def test_a_codec_without_its_own_model_gets_jpegs(weights_copy: Path) -> None:
    manifest = json.loads((weights_copy / "manifest.json").read_text())
    del manifest["webp-artifacts"]
    del manifest["jpeg-enhance"]
    (weights_copy / "manifest.json").write_text(json.dumps(manifest))
    assert weights.select("webp", Mode.FULL).name == "jpeg-artifacts"
    assert weights.select_enhance().name == "jpeg-artifacts"  # without its own model, enhance runs JPEG's


def test_a_lighter_network_stands_in_from_its_lowest_quality(weights_copy: Path) -> None:
    import hashlib

    from safetensors.torch import save

    from jpegplus.codecs.jpeg.quantization import condition_from_quality
    from jpegplus.models import RECONSTRUCTORS

    identity = RECONSTRUCTORS["SlimRestoreNet"]()  # its last convolution starts at zero: output = input
    blob = save({f"rec.{key}": value.half().contiguous() for key, value in identity.state_dict().items()})
    digest = hashlib.sha256(blob).hexdigest()
    (weights_copy / f"jpeg-artifacts-light-{digest[:8]}.safetensors").write_bytes(blob)
    manifest = json.loads((weights_copy / "manifest.json").read_text())
    manifest["jpeg-artifacts-light"] = {
        "file": f"jpeg-artifacts-light-{digest[:8]}.safetensors",
        "sha256": digest,
        "architecture": "SlimRestoreNet",
        "card": "jpeg-artifacts.md",
        "lightens": "jpeg-artifacts",
        "lowest_quality": 40,
    }
    (weights_copy / "manifest.json").write_text(json.dumps(manifest))
    full = weights.get_spec("jpeg-artifacts")
    assert weights.lighter(full, condition_from_quality(40)).name == "jpeg-artifacts-light"
    assert weights.lighter(full, condition_from_quality(39)) is full
    assert weights.lighter(weights.get_spec("webp-artifacts"), condition_from_quality(90)).name == "webp-artifacts"
    rng = np.random.default_rng(0)
    image = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    for quality, light in ((60, True), (20, False)):
        data = compress(image, codec="jpeg", quality=quality, mode="full")
        plain = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        assert np.array_equal(decompress(data), plain) is light  # the identity stand-in returns the plain decode


def test_files_decode_with_the_replaced_model_they_name(weights_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jpegplus import pipeline

    image = (np.random.default_rng(1).random((48, 64, 3)) * 255).astype(np.uint8)
    made = [compress(image, codec="jpeg", quality=quality, mode="full") for quality in (20, 60)]
    before = [decompress(data) for data in made]
    manifest = json.loads((weights_copy / "manifest.json").read_text())
    old, old_light = manifest["jpeg-artifacts"], manifest["jpeg-artifacts-light"]
    old_id, old_light_id = f"jpeg-artifacts@{old['sha256'][:8]}", f"jpeg-artifacts-light@{old_light['sha256'][:8]}"
    manifest[old_id], manifest[old_light_id] = old, {**old_light, "lightens": old_id}
    manifest["jpeg-artifacts"] = {**manifest["jpeg-enhance"], "card": "jpeg-artifacts.md"}  # a new model replaces them
    manifest["jpeg-artifacts-light"] = {**manifest["jpeg-enhance-light"], "lightens": "jpeg-artifacts"}
    (weights_copy / "manifest.json").write_text(json.dumps(manifest))
    weights.load_model.cache_clear()
    loaded: list[str] = []
    monkeypatch.setattr(pipeline, "load_model", lambda name: loaded.append(name) or weights.load_model(name))
    assert all(np.array_equal(decompress(data), pixels) for data, pixels in zip(made, before, strict=True))
    assert loaded == [old_id, old_light_id]
    assert weights.retired(old_id).model_id == old_id and weights.retired("jpeg-artifacts") is None
    renewed = compress(image, codec="jpeg", quality=20, mode="full")
    assert not np.array_equal(decompress(renewed), before[0]) and loaded[-1] == "jpeg-artifacts"
