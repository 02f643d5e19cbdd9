"""Alternating ComCNN/RecCNN training (Jiang et al. 2018), resumable, logged, bf16 where supported."""

from __future__ import annotations

import functools
import io
import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from jpegplus.codecs.jpeg.quantization import condition_from_quality
from jpegplus.io import to_batch_tensor, to_image
from jpegplus.metrics import tensor_psnr
from jpegplus.models import RECONSTRUCTORS, ComCNN, upsample2x
from jpegplus.models.folded import ResidualPair, zero_init
from jpegplus.runtime import autocast, channels_last
from jpegplus.training import data
from jpegplus.training.config import Stage, StageKind, TrainConfig
from jpegplus.training.data import PatchSet
from jpegplus.training.legacy import legacy_round_trip
from jpegplus.training.losses import reconstruction_loss

log = logging.getLogger("jpegplus.train")

INFERENCE_CHUNK = 32  # patches per forward pass outside the training steps (validation, the codec pass)
VALIDATION_CODEC_SEED = 12345  # the half-resolution validation sees the same codec qualities every time
LOG_SECONDS = 60.0


@dataclass(frozen=True)
class TrainingData:
    """The patch sets a run prepares once; the clean ones only when a stage trains the half-resolution path."""

    artifacts_train: PatchSet
    artifacts_val: PatchSet
    clean_train: np.ndarray | None
    clean_val: np.ndarray | None


@dataclass
class Progress:
    """Where a run is (a plain dict in the checkpoint): the stage, the step and the compute seconds
    within it, and whether the half-resolution network was initialised from an artifact one."""

    stage: int = 0
    step: int = 0
    elapsed: float = 0.0
    down_initialised: bool = False


@dataclass(frozen=True)
class StageRunner:
    """How one kind of stage learns and is validated, and which network it trains."""

    network: torch.nn.Module
    step: Callable[[], torch.Tensor]
    validate: Callable[[], dict[str, float]]


def augment(rng: np.random.Generator, *arrays: np.ndarray) -> list[np.ndarray]:
    """The same random flip and 90° rotation applied to every (N, H, W, C) array."""
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for array in arrays:
        array = np.rot90(array, turns, axes=(1, 2))
        out.append(array[:, :, ::-1] if flip else array)
    return out


def copy_weights(source: torch.nn.Module, target: torch.nn.Module, *, grow: bool = False) -> bool:
    """Load ``source``'s weights into ``target`` if every tensor of ``target`` is in ``source`` with its shape.

    So a network starts from a trained one of its architecture or from a larger variant of it
    (a lean RestoreNet from a RestoreNet: the missing bottleneck is left out). ``grow`` also lets
    ``target`` have residual pairs that ``source`` lacks (a deeper network from a trained shallower
    one): their last convolution is zeroed, so each starts as the identity and the grown network
    computes what ``source`` does. False when it does not fit.
    """
    theirs, ours = source.state_dict(), target.state_dict()
    if any(key in theirs and theirs[key].shape != value.shape for key, value in ours.items()):
        return False
    new_pairs = {
        name: pair
        for name, pair in target.named_modules()
        if isinstance(pair, ResidualPair) and not any(f"{name}.{key}" in theirs for key in pair.state_dict())
    }
    new_keys = {f"{name}.{key}" for name, pair in new_pairs.items() for key in pair.state_dict()}
    missing = {key for key in ours if key not in theirs}
    if missing and not (grow and missing <= new_keys):
        return False
    target.load_state_dict({key: theirs[key] for key in ours if key in theirs}, strict=False)
    for pair in new_pairs.values():
        zero_init(pair.conv2)
    return True


def cosine_learning_rate(config: TrainConfig, fraction: float, step: int) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay over the stage's time to the final rate."""
    cosine = config.final_learning_rate + 0.5 * (config.learning_rate - config.final_learning_rate) * (
        1 + math.cos(math.pi * min(fraction, 1.0))
    )
    return cosine * min(1.0, (step + 1) / config.warmup_steps)


class Trainer:
    """Runs a plan of stages with time-based cosine learning rates and resumable checkpoints."""

    def __init__(self, config: TrainConfig, run_dir: Path) -> None:
        self.config = config
        self.run_dir = run_dir
        self.device = torch.device("cpu")
        self.rng = np.random.default_rng(config.seed)
        self.artifact_net = channels_last(RECONSTRUCTORS[config.artifact_architecture]())
        self.down_net = channels_last(RECONSTRUCTORS[config.down_architecture]())
        self.com_net = channels_last(ComCNN())
        self.networks = {"artifact_net": self.artifact_net, "down_net": self.down_net, "com_net": self.com_net}
        self.state = Progress()
        self.optimizer: torch.optim.Optimizer | None = None
        self.pending_optimizer: dict | None = None  # a resumed run's optimizer state, loaded when its stage begins
        self.average: AveragedModel | None = None  # the running average of the stage's network (average_decay)
        self.average_of: torch.nn.Module | None = None  # the network it averages
        self.pending_average: dict | None = None  # a resumed run's average, loaded when its stage begins
        self.compact_pairs: tuple[np.ndarray, np.ndarray] | None = None  # down-rec: the codec pass of the stage
        self.data: TrainingData | None = None
        self.reconstruction_loss = reconstruction_loss(config)
        self.runners = {
            StageKind.ARTIFACTS: StageRunner(self.artifact_net, self.step_artifacts, self.validate_artifacts),
            StageKind.DOWN_REC: StageRunner(self.down_net, self.step_down_rec, self.validate_half_resolution),
            StageKind.DOWN_COM: StageRunner(self.com_net, self.step_down_com, self.validate_half_resolution),
        }

    # ----- data -----------------------------------------------------------------------------
    def prepare(self) -> TrainingData:
        """Build (once) and load the patch sets; later runs reuse the cached files."""
        cfg = self.config
        paths = data.training_images(Path(cfg.data_dir))
        train, val = data.split_validation(paths, cfg.validation_images)

        def pairs(name: str, subset: list[Path], crops: int, encodes: int, seed: int) -> PatchSet:
            path = self.run_dir / f"{name}.npz"
            if not path.exists():
                log.info("preparing %s", name)
                round_trip = (
                    functools.partial(legacy_round_trip, kinds=cfg.legacy_kinds)
                    if cfg.legacy
                    else data.compress_round_trip
                    if cfg.compress_pairs
                    else None
                )
                data.artifact_patches(
                    subset, patch=cfg.patch, crops=crops, encodes=encodes, qualities=cfg.artifact_qualities,
                    seed=seed, codec=cfg.codec, round_trip=round_trip,
                ).save(path)  # fmt: skip
            return PatchSet.load(path)

        def clean(name: str, subset: list[Path], crops: int) -> np.ndarray | None:
            if not cfg.trains_half_resolution:
                return None
            path = self.run_dir / f"{name}.npy"
            if not path.exists():
                np.save(path, data.clean_patches(subset, patch=cfg.patch, crops=crops, seed=cfg.seed + 2))
            return np.load(path)

        return TrainingData(
            artifacts_train=pairs("artifacts_train", train, cfg.artifact_crops, cfg.artifact_encodes, cfg.seed),
            artifacts_val=pairs("artifacts_val", val, cfg.validation_crops, cfg.validation_encodes, cfg.seed + 1),
            clean_train=clean("clean_train", train, cfg.clean_crops),
            clean_val=clean("clean_val", val, cfg.clean_validation_crops),
        )

    @property
    def prepared(self) -> TrainingData:
        if self.data is None:
            msg = "prepare() the training data first"
            raise RuntimeError(msg)
        return self.data

    def _clean(self, which: np.ndarray | None) -> np.ndarray:
        if which is None:
            msg = "clean patches are prepared only for plans with half-resolution stages"
            raise RuntimeError(msg)
        return which

    def compact_codec_pass(self, clean: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Frozen ComCNN → uint8 → real JPEG at random quality → decode: (decoded compact, condition)."""
        rng = np.random.default_rng(seed)
        low, high = self.config.compact_qualities
        decoded, conditions = [], []
        self.com_net.eval()
        for start in range(0, len(clean), INFERENCE_CHUNK):
            with torch.no_grad(), autocast(self.device):
                compact = self.measured(self.com_net)(to_batch_tensor(clean[start : start + INFERENCE_CHUNK])).float()
            for pixels in (to_image(compact[index : index + 1], gray=False) for index in range(len(compact))):
                buffer = io.BytesIO()
                Image.fromarray(pixels).save(
                    buffer, "JPEG", quality=int(rng.integers(low, high + 1)), subsampling="4:2:0"
                )
                image, condition = data.decode_jpeg(buffer.getvalue())
                decoded.append(image)
                conditions.append(condition)
        return np.stack(decoded), np.asarray(conditions, dtype=np.float32)

    # ----- one step of each stage kind ----------------------------------------------------------
    def _batch_indices(self, size: int) -> np.ndarray:
        return self.rng.integers(0, size, self.config.batch)

    def step_artifacts(self) -> torch.Tensor:
        """One batch of degraded → clean pairs through the artifact model."""
        pairs = self.prepared.artifacts_train
        idx = self._batch_indices(len(pairs.clean))
        clean, degraded = augment(self.rng, pairs.clean[idx], pairs.degraded[idx])
        with autocast(self.device):
            out = self.artifact_net(to_batch_tensor(degraded), torch.from_numpy(pairs.condition[idx]))
        return self.reconstruction_loss(out, to_batch_tensor(clean))

    def step_down_rec(self) -> torch.Tensor:
        """One batch of real-codec compact images through the half-resolution reconstructor."""
        if self.compact_pairs is None:
            msg = "the down-rec stage prepares its codec pass when it begins"
            raise RuntimeError(msg)
        decoded, condition = self.compact_pairs
        idx = self._batch_indices(len(decoded))
        clean, compact = augment(self.rng, self._clean(self.prepared.clean_train)[idx], decoded[idx])
        with autocast(self.device):
            out = self.down_net(upsample2x(to_batch_tensor(compact)), torch.from_numpy(condition[idx]))
        return self.reconstruction_loss(out, to_batch_tensor(clean))

    def step_down_com(self) -> torch.Tensor:
        """One batch through ComCNN, 8-bit rounding (straight-through) and the frozen reconstructor."""
        clean_train = self._clean(self.prepared.clean_train)
        idx = self._batch_indices(len(clean_train))
        (clean,) = augment(self.rng, clean_train[idx])
        target = to_batch_tensor(clean)
        qualities = self.rng.integers(*self.config.compact_qualities, size=self.config.batch)
        condition = torch.tensor([condition_from_quality(int(q)) for q in qualities], dtype=torch.float32)
        with autocast(self.device):
            compact = self.com_net(target).float()
            rounded = compact + ((compact.clamp(0, 1) * 255).round() / 255 - compact).detach()
            out = self.down_net(upsample2x(rounded), condition)
        anchor = (compact - F.avg_pool2d(target, 2)).abs().mean()
        return self.reconstruction_loss(out, target) + self.config.com_anchor_weight * anchor

    # ----- validation ---------------------------------------------------------------------------
    def measured(self, net: torch.nn.Module) -> torch.nn.Module:
        """What validation runs for ``net``: its running average while the stage averages it."""
        return self.average.module if self.average is not None and self.average_of is net else net

    def _run_chunked(self, net: torch.nn.Module, inputs: torch.Tensor, conditions: np.ndarray) -> torch.Tensor:
        outs = []
        for start in range(0, len(inputs), INFERENCE_CHUNK):
            part = slice(start, start + INFERENCE_CHUNK)
            with autocast(self.device):
                outs.append(net(inputs[part], torch.from_numpy(conditions[part])).float())
        return torch.cat(outs)

    @torch.no_grad()
    def validate_artifacts(self) -> dict[str, float]:
        """PSNR of the held-out decodes and of the artifact model's output."""
        pairs = self.prepared.artifacts_val
        degraded, reference = to_batch_tensor(pairs.degraded), to_batch_tensor(pairs.clean)
        out = self._run_chunked(self.measured(self.artifact_net), degraded, pairs.condition)
        return {"psnr_in": tensor_psnr(degraded, reference), "psnr_out": tensor_psnr(out, reference)}

    @torch.no_grad()
    def validate_half_resolution(self) -> dict[str, float]:
        """PSNR of the bicubic-upsampled codec decode of the compact image and of the reconstruction."""
        clean_val = self._clean(self.prepared.clean_val)
        decoded, condition = self.compact_codec_pass(clean_val, seed=VALIDATION_CODEC_SEED)
        upsampled, reference = upsample2x(to_batch_tensor(decoded)), to_batch_tensor(clean_val)
        out = self._run_chunked(self.measured(self.down_net), upsampled, condition)
        return {"psnr_bicubic": tensor_psnr(upsampled, reference), "psnr_out": tensor_psnr(out, reference)}

    # ----- the run ------------------------------------------------------------------------------
    def _begin_stage(self, kind: StageKind) -> torch.optim.Optimizer:
        for net in self.networks.values():
            net.requires_grad_(False)
            net.eval()
        if kind.half_resolution and not self.state.down_initialised:
            self._initialise_down_from(self.artifact_net)
        if kind is StageKind.DOWN_REC:
            clean_train = self._clean(self.prepared.clean_train)
            self.compact_pairs = self.compact_codec_pass(clean_train, seed=self.config.seed + self.state.stage)
        trained = self.runners[kind].network
        trained.requires_grad_(True)
        trained.train()
        if trained is self.artifact_net and self.config.frozen_architecture:
            frozen = RECONSTRUCTORS[self.config.frozen_architecture]().state_dict()
            for name, parameter in trained.named_parameters():
                parameter.requires_grad_(name not in frozen)
        learned = [parameter for parameter in trained.parameters() if parameter.requires_grad]
        decay = self.config.average_decay
        self.average = None if decay is None else AveragedModel(trained, multi_avg_fn=get_ema_multi_avg_fn(decay))
        self.average_of = trained
        return torch.optim.Adam(learned, lr=self.config.learning_rate)

    def _end_stage(self, trained: torch.nn.Module) -> None:
        """The stage's result is its network's running average when it kept one."""
        if self.average is not None:
            trained.load_state_dict(self.average.module.state_dict())
            self.average = None

    def checkpoint(self) -> None:
        """Atomically save models, optimizer and progress."""
        payload = {
            "state": asdict(self.state),
            **{name: net.state_dict() for name, net in self.networks.items()},
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
            "average": None
            if self.average is None
            else {"network": self._name(self.average_of), "state": self.average.state_dict()},
            "architectures": {
                "artifact_net": self.config.artifact_architecture,
                "down_net": self.config.down_architecture,
            },
            "codec": self.config.codec,
            "legacy": self.config.legacy,
        }
        tmp = self.run_dir / "checkpoint.pt.tmp"
        torch.save(payload, tmp)
        tmp.replace(self.run_dir / "checkpoint.pt")

    def resume(self) -> bool:
        """Load the last checkpoint if there is one."""
        path = self.run_dir / "checkpoint.pt"
        if not path.exists():
            return False
        payload = torch.load(path, weights_only=True, map_location="cpu")
        self.state = Progress(**payload["state"])
        for name, net in self.networks.items():
            net.load_state_dict(payload[name])
        self.pending_optimizer = payload["optimizer"]
        self.pending_average = (payload.get("average") or {}).get("state")
        return True

    def _name(self, net: torch.nn.Module | None) -> str:
        return next(name for name, candidate in self.networks.items() if candidate is net)

    def start_from_weights(self) -> None:
        """Initialise a fresh run from the installed weights: the codec's artifact model and, for plans
        with half-resolution stages, the half-resolution pair."""
        from jpegplus.modes import Mode
        from jpegplus.weights import load_model, select

        artifacts = load_model(select(self.config.codec, Mode.FULL).name)
        if not copy_weights(artifacts.reconstruct, self.artifact_net, grow=True):
            spec = artifacts.spec
            msg = f"{spec.model_id} ({spec.architecture}) does not fit {self.config.artifact_architecture}"
            raise ValueError(msg)
        log.info("starting from %s", artifacts.spec.model_id)
        if self.config.trains_half_resolution:
            down = load_model("jpeg-downsample")
            if down.compact is not None:
                self.com_net.load_state_dict(down.compact.state_dict())
            # a new down architecture starts from an artifact model it fits
            self._initialise_down_from(down.reconstruct)
            self._initialise_down_from(artifacts.reconstruct)
            log.info("starting the half-resolution pair from %s", down.spec.model_id)

    def _initialise_down_from(self, net: torch.nn.Module) -> None:
        """Copy ``net`` into the half-resolution reconstructor once, if it fits (``copy_weights``)."""
        if not self.state.down_initialised and copy_weights(net, self.down_net):
            self.state.down_initialised = True

    def run(self, *, from_weights: bool = False) -> None:
        """Run (or continue) every stage of the plan; a new run may start from the installed weights."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(asdict(self.config), indent=2))
        resumed = self.resume()
        if not resumed and from_weights:
            self.start_from_weights()
        self.data = self.prepare()
        while self.state.stage < len(self.config.plan):
            stage = self.config.plan[self.state.stage]
            optimizer = self.optimizer = self._begin_stage(stage.kind)
            if self.pending_optimizer is not None:
                optimizer.load_state_dict(self.pending_optimizer)
                self.pending_optimizer = None
            if self.pending_average is not None and self.average is not None:
                self.average.load_state_dict(self.pending_average)
            self.pending_average = None
            self._run_stage(stage, optimizer)
            self._end_stage(self.runners[stage.kind].network)
            log.info("stage %d (%s) done: %s", self.state.stage, stage.kind.value, self.runners[stage.kind].validate())
            self.state = Progress(stage=self.state.stage + 1, down_initialised=self.state.down_initialised)
            self.checkpoint()
            shutil.copyfile(self.run_dir / "checkpoint.pt", self.run_dir / f"after-stage-{self.state.stage}.pt")

    def _run_stage(self, stage: Stage, optimizer: torch.optim.Optimizer) -> None:
        """Train for ``stage.minutes`` of compute: CPU time over the thread count, so a paused or
        crowded process still gets its whole schedule (wall time would run out with few steps)."""
        runner = self.runners[stage.kind]
        budget = stage.minutes * 60.0
        threads = torch.get_num_threads()
        last_save = last_log = time.monotonic()
        last_cpu = time.process_time()
        losses: list[float] = []
        while self.state.elapsed < budget:
            rate = cosine_learning_rate(self.config, self.state.elapsed / budget, self.state.step)
            for group in optimizer.param_groups:
                group["lr"] = rate
            loss = runner.step()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(runner.network.parameters(), self.config.gradient_clip)
            optimizer.step()
            if self.average is not None:
                self.average.update_parameters(runner.network)
            losses.append(loss.item())
            self.state.step += 1
            cpu = time.process_time()
            self.state.elapsed += (cpu - last_cpu) / threads
            last_cpu = cpu
            now = time.monotonic()
            if now - last_log > LOG_SECONDS:
                log.info(
                    "stage %d %s step %d %.1f/%.0f min lr %.2e loss %.5f",
                    self.state.stage, stage.kind.value, self.state.step, self.state.elapsed / 60,
                    stage.minutes, rate, float(np.mean(losses)),
                )  # fmt: skip
                losses.clear()
                last_log = now
            if now - last_save > self.config.checkpoint_minutes * 60:
                log.info("validation %s", runner.validate())
                self.checkpoint()
                last_save = time.monotonic()
                last_cpu = time.process_time()  # validation and saving are not training time
