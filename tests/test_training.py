"""Training plumbing (data preparation and export), without training anything."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file
from typer.testing import CliRunner

from jpegplus.cli import app
from jpegplus.codecs import get_codec
from jpegplus.codecs.jpeg.quantization import condition_from_quality, condition_from_tables, restoration_tables
from jpegplus.encoder import ModeEncoder
from jpegplus.io import load_image
from jpegplus.models import RECONSTRUCTORS, ComCNN, RecCNN, RestoreNet
from jpegplus.modes import Mode
from jpegplus.training import legacy
from jpegplus.training.config import Loss, TrainConfig, parse_plan, parse_qualities
from jpegplus.training.data import artifact_patches, compress_round_trip, random_round_trip
from jpegplus.training.export import export
from jpegplus.training.loop import copy_weights
from jpegplus.training.losses import LossFunction, reconstruction_loss
from jpegplus.weights import get_spec, lighter, retired, select_enhance_artifacts, stand_in


@pytest.mark.parametrize("codec", ["webp", "jpeg2000", "avif"])
def test_round_trip_of_other_codecs_is_conditioned_on_its_quality(codec: str, photo: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    decoded, reference, condition = random_round_trip(photo, rng, codec, (20, 20))
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert condition == condition_from_quality(20)
    assert reference is photo
    assert 0 < np.abs(decoded.astype(int) - photo.astype(int)).mean() < 20  # lossy, but the same picture


def test_jpeg_round_trip_reads_its_tables(photo: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    conditions = {random_round_trip(photo, rng, "jpeg", (10, 10))[2] for _ in range(24)}
    assert condition_from_quality(10) in conditions  # standard tables at quality 10
    assert condition_from_tables(*restoration_tables(10)) in conditions  # compress's full-mode tables


def test_compress_pairs_are_the_files_compress_writes(photo: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    pairs = [compress_round_trip(photo, rng, (10, 10)) for _ in range(12)]
    colour = [pair for pair in pairs if pair[2][0] != pair[2][1]]
    gray = [pair for pair in pairs if pair[2][0] == pair[2][1]]
    assert colour and gray  # gray pairs are drawn too, at GRAY_SHARE
    decoded, reference, condition = colour[0]
    assert condition == condition_from_tables(*restoration_tables(10)) and reference is photo
    stored = ModeEncoder.prepare(load_image(photo), get_codec("jpeg"), Mode.FULL, "cpu").encode(10)
    with Image.open(io.BytesIO(stored)) as picture:  # the very coefficients compress stores (its trellis)
        assert np.array_equal(decoded, np.asarray(picture.convert("RGB")))
    decoded, reference, _ = gray[0]
    assert np.array_equal(reference[..., 0], reference[..., 2]) and np.array_equal(decoded[..., 0], decoded[..., 1])


@pytest.mark.parametrize("kind", list(legacy.KIND_SHARES))
def test_legacy_pairs_of_each_kind_are_conditioned_on_the_last_files_tables(
    kind: str, photo: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(legacy, "KIND_SHARES", {kind: 1.0})
    decoded, reference, condition = legacy.legacy_round_trip(photo, np.random.default_rng(5), (20, 20))
    assert decoded.shape == reference.shape and decoded.dtype == reference.dtype == np.uint8
    assert 0 < np.abs(decoded.astype(int) - reference.astype(int)).mean() < 25  # lossy, the same picture
    if kind in ("aligned", "shifted", "resized"):  # two libjpeg files: the last one's tables at quality 20
        assert condition == condition_from_quality(20)
    if kind == "shifted":
        assert reference.shape[:2] < photo.shape[:2] and np.array_equal(
            reference, photo[-reference.shape[0] :, -reference.shape[1] :]
        )
    if kind == "resized":
        assert reference.shape[0] < photo.shape[0]
    if kind in ("jpegli", "mozjpeg"):  # encoders with tables of their own
        assert condition not in (condition_from_quality(20), condition_from_tables(*restoration_tables(20)))


def test_artifact_patches_are_aligned_crops(tmp_path: Path, photo: np.ndarray) -> None:
    Image.fromarray(photo).save(tmp_path / "a.png")
    pairs = artifact_patches(
        [tmp_path / "a.png"], patch=32, crops=3, encodes=2, qualities=(30, 30), seed=1, codec="webp"
    )
    assert pairs.clean.shape == pairs.degraded.shape == (6, 32, 32, 3)
    assert pairs.condition.shape == (6, 2)
    for clean in pairs.clean:  # every clean patch is a crop of the photo at a 16-pixel grid position
        assert any(
            np.array_equal(photo[top : top + 32, left : left + 32], clean)
            for top in range(0, 96 - 31, 16)
            for left in range(0, 128 - 31, 16)
        )


def test_an_encode_smaller_than_the_patch_gives_no_crops(tmp_path: Path, photo: np.ndarray) -> None:
    """A legacy pair resized below the patch size is left out instead of stopping the data preparation."""
    Image.fromarray(photo).save(tmp_path / "a.png")
    shrink = iter([True, False])

    def sometimes_shrunk(image: np.ndarray, rng: np.random.Generator, qualities: tuple[int, int]):  # noqa: ANN202
        decoded = image[:40, :40] if next(shrink) else image
        return decoded, decoded, (0.5, 0.5)

    pairs = artifact_patches(
        [tmp_path / "a.png"], patch=48, crops=3, encodes=2, qualities=(30, 30), seed=1, round_trip=sometimes_shrunk
    )
    assert pairs.clean.shape == (3, 48, 48, 3)  # the three crops of the full-size encode only


def test_export_names_the_model_after_the_codec(tmp_path: Path) -> None:
    net = RestoreNet()
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save(
        {"artifact_net": net.state_dict(), "architectures": {"artifact_net": "RestoreNet"}, "codec": "webp"}, checkpoint
    )
    written = export(checkpoint, tmp_path, ["artifacts"], highest_quality=70)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert list(written) == ["webp-artifacts"]
    assert manifest["webp-artifacts"]["architecture"] == "RestoreNet"
    assert manifest["webp-artifacts"]["highest_quality"] == 70
    with safe_open(tmp_path / written["webp-artifacts"], "pt") as tensors:
        first = next(iter(net.state_dict()))
        assert tensors.get_tensor("rec." + first).dtype == torch.float16
        assert torch.allclose(tensors.get_tensor("rec." + first).float(), net.state_dict()[first], atol=1e-3)


def test_export_of_a_checkpoint_is_reproducible(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"artifact_net": RestoreNet(widths=(8, 16), pairs=1).state_dict()}, checkpoint)
    files = {next(iter(export(checkpoint, tmp_path, ["artifacts"]).values())) for _ in range(8)}
    assert len(files) == 1  # the same bytes, so the same digest in the name


def test_export_makes_its_weights_folder(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"artifact_net": RestoreNet(widths=(8, 16), pairs=1).state_dict()}, checkpoint)
    out = tmp_path / "new" / "weights"
    written = export(checkpoint, out, ["artifacts"])
    assert (out / written["jpeg-artifacts"]).is_file()
    assert json.loads((out / "manifest.json").read_text())["jpeg-artifacts"]["file"] == written["jpeg-artifacts"]
    assert sorted(path.name for path in out.iterdir()) == sorted([written["jpeg-artifacts"], "manifest.json"])


def export_tiny(folder: Path, kind: str, seed: int, *, keep: bool = True) -> str:
    """Export a tiny seeded artifact network as ``kind`` into ``folder`` (``--lowest-quality 30``); its file."""
    torch.manual_seed(seed)
    checkpoint = folder / "checkpoint.pt"
    torch.save({"artifact_net": RestoreNet(widths=(8, 16), pairs=1).state_dict()}, checkpoint)
    return export(checkpoint, folder, [kind], lowest_quality=30, keep_replaced=keep)[f"jpeg-{kind}"]


def test_export_keeps_the_replaced_model_and_its_stand_in_under_their_ids(tmp_path: Path) -> None:
    first = export_tiny(tmp_path, "artifacts", 0, keep=False)
    light = export_tiny(tmp_path, "artifacts-light", 1, keep=False)
    # replaced without keeping: files naming ``first`` get the installed model
    export_tiny(tmp_path, "artifacts", 2, keep=False)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(manifest) == ["jpeg-artifacts", "jpeg-artifacts-light"]
    replaced = manifest["jpeg-artifacts"]
    export_tiny(tmp_path, "artifacts", 3)
    # a stand-in replaced without keeping: the installed model's files get it
    export_tiny(tmp_path, "artifacts-light", 4, keep=False)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    kept, kept_light = f"jpeg-artifacts@{replaced['sha256'][:8]}", f"jpeg-artifacts-light@{light.split('-')[-1][:8]}"
    assert sorted(manifest) == sorted(["jpeg-artifacts", "jpeg-artifacts-light", kept, kept_light])
    assert manifest[kept] == replaced and manifest[kept_light]["lightens"] == kept
    assert manifest[kept_light]["file"] == light and manifest["jpeg-artifacts-light"]["lightens"] == "jpeg-artifacts"
    assert first != replaced["file"]


def test_a_kept_stand_in_keeps_its_model_and_the_model_gets_a_new_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPEGPLUS_WEIGHTS", str(tmp_path))

    model, light = export_tiny(tmp_path, "artifacts", 0), export_tiny(tmp_path, "artifacts-light", 1)
    old_id = get_spec("jpeg-artifacts").model_id
    new_light = export_tiny(tmp_path, "artifacts-light", 2)
    installed = get_spec("jpeg-artifacts")
    assert installed.model_id != old_id and installed.file != model and stand_in(installed).file == new_light
    kept = retired(old_id)
    assert kept is not None and kept.file == model and stand_in(kept).file == light  # old files: the old pair
    tensors = [load_file(tmp_path / file) for file in (model, installed.file)]
    assert tensors[0].keys() == tensors[1].keys() and all(torch.equal(tensors[0][k], tensors[1][k]) for k in tensors[0])
    same = export_tiny(tmp_path, "artifacts-light", 2)  # the same stand-in again: nothing changes
    assert same == new_light and get_spec("jpeg-artifacts") == installed
    torch.save({"artifact_net": RestoreNet(widths=(8, 16), pairs=1).state_dict()}, tmp_path / "both.pt")
    kinds = ["artifacts", "artifacts-light"]
    both = export(tmp_path / "both.pt", tmp_path, kinds, lowest_quality=30, keep_replaced=True)
    assert get_spec("jpeg-artifacts").file == both["jpeg-artifacts"]  # exported with its stand-in: no new id
    assert retired(installed.model_id) is not None and retired(get_spec("jpeg-artifacts").model_id) is None


def test_replaced_models_keep_their_stand_in_and_enhance_its_artifact_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPEGPLUS_WEIGHTS", str(tmp_path))

    models, light = [export_tiny(tmp_path, "artifacts", 0)], export_tiny(tmp_path, "artifacts-light", 1)
    assert select_enhance_artifacts().file == models[0]  # no enhance model: JPEG's full-mode one
    export_tiny(tmp_path, "enhance", 9)  # measured with models[0]
    # two replacements, one stand-in throughout
    models += [export_tiny(tmp_path, "artifacts", 2), export_tiny(tmp_path, "artifacts", 3)]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for file in models[:2]:
        model_id = next(name for name, entry in manifest.items() if "@" in name and entry["file"] == file)
        assert stand_in(get_spec(model_id)) is not None and stand_in(get_spec(model_id)).file == light
    assert stand_in(get_spec("jpeg-artifacts")).file == light and manifest["jpeg-artifacts"]["file"] == models[2]
    assert select_enhance_artifacts().file == models[0]  # enhance keeps the pair it was measured with
    assert lighter(select_enhance_artifacts(), condition_from_quality(90)).file == light
    export_tiny(tmp_path, "enhance", 10)  # a new enhance model is measured with the current artifact model
    assert select_enhance_artifacts().file == models[2]


def test_export_names_the_half_resolution_architecture(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    state = {"com_net": ComCNN().state_dict(), "down_net": RestoreNet(widths=(8, 16), pairs=1).state_dict()}
    torch.save({**state, "architectures": {"artifact_net": "RestoreNet", "down_net": "RestoreNet"}}, checkpoint)
    export(checkpoint, tmp_path, ["downsample"])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["jpeg-downsample"]["architecture"] == "ComCNN+RestoreNet"
    assert "highest_quality" not in manifest["jpeg-downsample"]


def test_export_command_writes_the_kinds_and_what_was_measured(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"artifact_net": RestoreNet(widths=(8, 16), pairs=1).state_dict(), "codec": "webp"}, checkpoint)
    argv = ["export", str(checkpoint), "--out", str(tmp_path), "--kinds", "artifacts"]
    result = CliRunner().invoke(app, [*argv, "--highest-quality", "70", "--crossover-bpp", "0.3"])
    assert result.exit_code == 0 and "webp-artifacts: " in result.stdout
    entry = json.loads((tmp_path / "manifest.json").read_text())["webp-artifacts"]
    assert (entry["highest_quality"], entry["crossover_bpp"]) == (70, 0.3) and "trellis" not in entry
    result = CliRunner().invoke(app, [*argv, "--trellis", "--trellis-highest-quality", "80"])
    entry = json.loads((tmp_path / "manifest.json").read_text())["webp-artifacts"]
    assert result.exit_code == 0 and (entry["trellis"], entry["trellis_highest_quality"]) == (True, 80)
    result = CliRunner().invoke(app, [*argv[:-1], "artifacts,big"])
    assert result.exit_code == 2 and "unknown model kind 'big'" in result.stderr
    result = CliRunner().invoke(app, [*argv[:-1], "artifacts-light", "--lowest-quality", "25"])
    assert result.exit_code == 0 and "webp-artifacts-light: " in result.stdout
    light = json.loads((tmp_path / "manifest.json").read_text())["webp-artifacts-light"]
    assert (light["lightens"], light["lowest_quality"]) == ("webp-artifacts", 25) and "highest_quality" not in light
    result = CliRunner().invoke(app, [*argv[:-1], "enhance,enhance-light", "--lowest-quality", "30"])
    assert result.exit_code == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "lightens" not in manifest["webp-enhance"]
    assert (manifest["webp-enhance-light"]["lightens"], manifest["webp-enhance-light"]["lowest_quality"]) == (
        "webp-enhance",
        30,
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--codec", "gif", "unknown codec 'gif'"),
        ("--architecture", "Big", "unknown architecture 'Big'"),
        ("--down-architecture", "Big", "unknown architecture 'Big'"),
        ("--train-new-over", "Big", "unknown architecture 'Big'"),
        ("--loss", "l3", "unknown loss 'l3'"),
        ("--artifact-qualities", "60-5", "bad quality range '60-5'"),
        ("--artifact-qualities", "high", "bad quality range 'high'"),
    ],
)
def test_train_rejects_unknown_names_before_any_work(tmp_path: Path, option: str, value: str, message: str) -> None:
    result = CliRunner().invoke(app, ["train", "--run", str(tmp_path / "run"), "--data", str(tmp_path), option, value])
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "run").exists()


def test_quality_range_and_losses(tmp_path: Path) -> None:
    assert parse_qualities("1-70") == (1, 70)

    def loss(name: Loss, share: float = 0.03) -> LossFunction:
        return reconstruction_loss(TrainConfig(str(tmp_path), [], patch=192, loss=name, ms_ssim_share=share))

    output, target = torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4)
    assert loss(Loss.MSE)(output, target).item() == pytest.approx(0.25)
    assert loss(Loss.CHARBONNIER)(output, target).item() == pytest.approx(0.5, abs=1e-5)
    picture = torch.rand(1, 3, 192, 192, generator=torch.Generator().manual_seed(0))
    assert loss(Loss.MSE_MS_SSIM)(picture, picture).item() == pytest.approx(0, abs=1e-6)
    darker, mse = picture * 0.8, loss(Loss.MSE)(picture * 0.8, picture).item()
    assert loss(Loss.MSE_MS_SSIM, share=0)(darker, picture).item() == pytest.approx(mse)
    dissimilarity = loss(Loss.MSE_MS_SSIM, share=1)(darker, picture).item() - mse
    assert dissimilarity > 0  # the MS-SSIM term adds to the MSE, in proportion to its share
    assert loss(Loss.MSE_MS_SSIM, share=0.1)(darker, picture).item() == pytest.approx(mse + 0.1 * dissimilarity)


def test_legacy_kinds_limit_the_files_drawn(photo: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    shapes = {legacy.legacy_round_trip(photo, rng, (20, 40), kinds=("shifted",))[1].shape for _ in range(6)}
    assert all(shape[:2] < photo.shape[:2] for shape in shapes)  # every file shifted: the reference cropped
    aligned = [legacy.legacy_round_trip(photo, rng, (20, 40), kinds=("aligned", "single"))[1] for _ in range(6)]
    assert all(reference.shape == photo.shape for reference in aligned)


def test_training_options_that_cannot_work_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="legacy pairs or compress pairs"):
        TrainConfig(data_dir=str(tmp_path), plan=parse_plan("artifacts:1"), legacy=True, compress_pairs=True)
    with pytest.raises(ValueError, match="unknown legacy kinds blurred"):
        TrainConfig(data_dir=str(tmp_path), plan=parse_plan("artifacts:1"), legacy=True, legacy_kinds=("blurred",))
    with pytest.raises(ValueError, match="add --legacy"):
        TrainConfig(data_dir=str(tmp_path), plan=parse_plan("artifacts:1"), legacy_kinds=("shifted",))
    with pytest.raises(ValueError, match="patches above 160"):
        TrainConfig(data_dir=str(tmp_path), plan=parse_plan("artifacts:1"), patch=128, loss=Loss.MSE_MS_SSIM)


def test_lean_restorenet_starts_from_a_restorenet_without_its_bottleneck() -> None:
    torch.manual_seed(0)
    full, lean = RestoreNet(widths=(8, 16), pairs=1), RECONSTRUCTORS["LeanRestoreNet"](widths=(8, 16), pairs=1)
    torch.nn.init.normal_(full.tail.weight, std=0.1)  # a trained-like net: the zero-initialised tail hides everything
    assert not any(name.startswith("bottleneck") for name in lean.state_dict())
    assert copy_weights(full, lean)
    full.bottleneck = torch.nn.Sequential()  # the same network with the bottleneck pairs removed
    image, condition = torch.rand(1, 3, 32, 32), torch.tensor([[0.3, 0.2]])
    with torch.no_grad():
        assert torch.equal(lean(image, condition), full(image, condition))
        assert not torch.equal(lean(image, condition), image)


def test_per_level_pairs_start_from_the_network_with_the_later_pairs_removed() -> None:
    torch.manual_seed(0)
    full = RestoreNet(widths=(8, 16, 32), pairs=2)
    slim = RestoreNet(widths=(8, 16, 32), pairs=(2, 1), decoder_pairs=(1, 2))
    for parameter in full.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    assert [len(stack) for stack in slim.encoders] == [2, 1] and [len(stack) for stack in slim.decoders] == [1, 2]
    assert len(slim.bottleneck) == 1  # the coarsest encoder level's count
    assert copy_weights(full, slim)
    for removed in (full.encoders[1][1], full.bottleneck[1], full.decoders[0][1]):  # zero last convolution: identity
        torch.nn.init.zeros_(removed.conv2.weight)
        torch.nn.init.zeros_(removed.conv2.bias)
    image, condition = torch.rand(1, 3, 32, 32), torch.tensor([[0.3, 0.2]])
    with torch.no_grad():
        assert torch.allclose(slim(image, condition), full(image, condition), atol=1e-6)
    with pytest.raises(ValueError, match="3 pair counts for 2 levels"):
        RestoreNet(widths=(8, 16, 32), pairs=(2, 1, 0))


def test_a_deeper_network_grows_from_a_shallower_one_computing_the_same() -> None:
    torch.manual_seed(0)
    shallow = RestoreNet(widths=(8, 16, 32), pairs=(2, 1), bottleneck_pairs=0)
    deep = RestoreNet(widths=(8, 16, 32), pairs=(2, 3), bottleneck_pairs=1)
    for parameter in shallow.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    assert not copy_weights(shallow, deep)  # growing is asked for, never assumed
    assert copy_weights(shallow, deep, grow=True)
    image, condition = torch.rand(1, 3, 32, 32), torch.tensor([[0.3, 0.2]])
    with torch.no_grad():
        assert torch.allclose(deep(image, condition), shallow(image, condition), atol=1e-6)
    added = (deep.encoders[1][1], deep.encoders[1][2], deep.decoders[1][2], deep.bottleneck[0])
    assert all(not pair.conv2.weight.any() and pair.conv1.weight.any() for pair in added)  # identity, yet trainable


def test_a_grown_network_can_learn_only_its_new_pairs(tmp_path: Path) -> None:
    from jpegplus.training.config import StageKind, TrainConfig
    from jpegplus.training.loop import Trainer

    plan = parse_plan("artifacts:1")
    config = TrainConfig(
        str(tmp_path), plan, artifact_architecture="DeepRestoreNet", frozen_architecture="LeanRestoreNet"
    )
    trainer = Trainer(config, tmp_path / "run")
    optimizer = trainer._begin_stage(StageKind.ARTIFACTS)
    learned = {id(parameter) for group in optimizer.param_groups for parameter in group["params"]}
    names = {name for name, parameter in trainer.artifact_net.named_parameters() if id(parameter) in learned}
    new_pairs = ("encoders.1.2.", "encoders.2.2.", "encoders.2.3.", "decoders.1.2.", "decoders.2.2.", "decoders.2.3.")
    assert len(names) == 4 * len(new_pairs) and all(name.startswith(new_pairs) for name in names)
    net = trainer.artifact_net
    assert all(parameter.requires_grad == (name in names) for name, parameter in net.named_parameters())


def test_copy_weights_refuses_a_network_that_does_not_fit() -> None:
    target = RestoreNet(widths=(8, 16), pairs=1)
    before = {key: value.clone() for key, value in target.state_dict().items()}
    assert not copy_weights(RecCNN(), target)
    assert not copy_weights(RECONSTRUCTORS["LeanRestoreNet"](widths=(8, 16), pairs=1), target)  # lacks the bottleneck
    assert not copy_weights(RestoreNet(widths=(8, 16), pairs=1).head, target, grow=True)  # lacks more than pairs
    assert all(torch.equal(before[key], value) for key, value in target.state_dict().items())


def test_plan_stages_are_typed_and_only_half_resolution_plans_prepare_clean_patches(tmp_path: Path) -> None:
    from jpegplus.training.config import StageKind, TrainConfig

    assert [stage.kind for stage in parse_plan("artifacts:5,down-com:2")] == [StageKind.ARTIFACTS, StageKind.DOWN_COM]
    with pytest.raises(ValueError, match="KIND:MINUTES"):
        parse_plan("artifacts")
    assert not TrainConfig(str(tmp_path), parse_plan("artifacts:1")).trains_half_resolution
    assert TrainConfig(str(tmp_path), parse_plan("artifacts:1,down-rec:1")).trains_half_resolution
    assert TrainConfig(str(tmp_path), []).artifact_architecture == "LeanRestoreNet"  # what ships


def test_a_weight_average_is_what_validation_measures_export_writes_and_the_stage_ends_with(tmp_path: Path) -> None:
    from jpegplus.training.config import StageKind, TrainConfig
    from jpegplus.training.export import exported_weights
    from jpegplus.training.loop import Trainer

    with pytest.raises(ValueError, match="between 0 and 1"):
        TrainConfig(str(tmp_path), parse_plan("artifacts:1"), average_decay=1.0)
    config = TrainConfig(str(tmp_path), parse_plan("artifacts:1"), average_decay=0.75)
    trainer = Trainer(config, tmp_path / "run")
    trainer.run_dir.mkdir()
    trainer._begin_stage(StageKind.ARTIFACTS)
    net, average = trainer.artifact_net, trainer.average
    assert (
        average is not None
        and trainer.measured(net) is average.module
        and trainer.measured(trainer.down_net) is not average.module
    )
    start = net.head.weight.detach().clone()
    average.update_parameters(net)  # the first update takes the weights as they are
    with torch.no_grad():
        net.head.weight.add_(4.0)  # as if an optimizer step moved them
    average.update_parameters(net)
    assert torch.allclose(average.module.head.weight, start + 1.0)  # 0.75 · start + 0.25 · (start + 4)
    trainer.checkpoint()
    payload = torch.load(trainer.run_dir / "checkpoint.pt", weights_only=True)
    assert torch.allclose(exported_weights(payload, "artifact_net")["head.weight"], start + 1.0)
    assert torch.allclose(exported_weights(payload, "down_net")["head.weight"], trainer.down_net.head.weight)
    resumed = Trainer(config, trainer.run_dir)
    assert resumed.resume() and resumed.pending_average is not None
    assert torch.allclose(resumed.pending_average["module.head.weight"], start + 1.0)
    trainer._end_stage(net)
    assert trainer.average is None and torch.allclose(net.head.weight, start + 1.0)
