"""Alternating ComCNN/RecCNN training (Jiang et al. 2018), resumable, logged, bf16 where supported."""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from jpegplus.models import RECONSTRUCTORS, ComCNN
from jpegplus.quantization import condition_from_quality
from jpegplus.runtime import autocast
from jpegplus.training import data
from jpegplus.training.data import PatchSet
from jpegplus.training.legacy import legacy_round_trip

log = logging.getLogger("jpegplus.train")

STAGE_KINDS = ("artifacts", "down-rec", "down-com")


@dataclass(frozen=True)
class Stage:
    """One training stage: what learns (kind) and for how many minutes."""

    kind: str
    minutes: float


@dataclass
class TrainConfig:
    """Everything a run depends on; stored beside its checkpoints."""

    data_dir: str
    plan: list[Stage]
    patch: int = 128
    batch: int = 16
    learning_rate: float = 3e-4
    final_learning_rate: float = 2e-6
    warmup_steps: int = 100
    artifact_qualities: tuple[int, int] = (5, 95)
    artifact_crops: int = 5  # crops per encode of each photo
    artifact_encodes: int = 8  # random codec encodes of each photo
    compact_qualities: tuple[int, int] = (10, 95)
    artifact_architecture: str = "RecCNN"
    down_architecture: str = "RecCNN"  # the half-resolution path's reconstruction network
    codec: str = "jpeg"  # the codec whose decodes the artifact model learns to repair
    legacy: bool = False  # JPEG pairs as people have them (re-compressed, shifted, resized, jpegli): enhance's model
    com_anchor_weight: float = 0.1
    loss: str = "charbonnier"  # reconstruction loss: "charbonnier" (L1-like) or "mse" (what PSNR measures)
    validation_images: int = 10
    checkpoint_minutes: float = 3.0
    seed: int = 0
    notes: dict[str, str] = field(default_factory=dict)


def parse_plan(text: str) -> list[Stage]:
    """``"artifacts:45,down-rec:20"`` → stages."""
    stages = []
    for item in text.split(","):
        kind, _, minutes = item.partition(":")
        if kind not in STAGE_KINDS or not minutes:
            msg = f"bad stage {item!r}: use KIND:MINUTES with KIND in {', '.join(STAGE_KINDS)}"
            raise ValueError(msg)
        stages.append(Stage(kind, float(minutes)))
    return stages


def charbonnier(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth L1-like loss, robust early and close to L2 behaviour near zero."""
    return torch.sqrt((output.float() - target.float()) ** 2 + 1e-6).mean()


def mean_squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The loss PSNR measures: for fine-tuning a model first trained with :func:`charbonnier`."""
    return F.mse_loss(output.float(), target.float())


LOSSES = {"charbonnier": charbonnier, "mse": mean_squared_error}


def parse_qualities(text: str) -> tuple[int, int]:
    """``"1-60"`` → (1, 60), a codec quality range inside 1–100."""
    low, _, high = text.partition("-")
    try:
        bounds = (int(low), int(high))
    except ValueError:
        bounds = (0, 0)
    if not 1 <= bounds[0] <= bounds[1] <= 100:
        msg = f"bad quality range {text!r}: use LOW-HIGH with 1 <= LOW <= HIGH <= 100"
        raise ValueError(msg)
    return bounds


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 → (N, 3, H, W) float in [0, 1], channels-last memory."""
    tensor = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float() / 255.0
    return tensor.contiguous(memory_format=torch.channels_last)


def augment(rng: np.random.Generator, *arrays: np.ndarray) -> list[np.ndarray]:
    """The same random flip and 90° rotation applied to every (N, H, W, C) array."""
    turns, flip = int(rng.integers(4)), bool(rng.integers(2))
    out = []
    for array in arrays:
        array = np.rot90(array, turns, axes=(1, 2))
        out.append(array[:, :, ::-1] if flip else array)
    return out


def upsample(compact: torch.Tensor) -> torch.Tensor:
    """The fixed 2× bicubic upsampling in front of the half-resolution reconstructor."""
    return F.interpolate(compact, scale_factor=2, mode="bicubic", align_corners=False)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of [0, 1] tensors after rounding to 8 bits."""
    mse = torch.mean(((a.clamp(0, 1) * 255).round() - (b * 255).round()) ** 2).item()
    return 10 * math.log10(255.0**2 / max(mse, 1e-10))


def copy_weights(source: torch.nn.Module, target: torch.nn.Module) -> bool:
    """Load ``source``'s weights into ``target`` if every tensor of ``target`` is in ``source`` with its shape.

    So a network starts from a trained one of its architecture or from a larger variant of it
    (a lean RestoreNet from a RestoreNet: the missing bottleneck is left out). False when it does not fit.
    """
    theirs, ours = source.state_dict(), target.state_dict()
    if any(key not in theirs or theirs[key].shape != value.shape for key, value in ours.items()):
        return False
    target.load_state_dict({key: theirs[key] for key in ours})
    return True


class Trainer:
    """Runs a plan of stages with time-based cosine learning rates and resumable checkpoints."""

    def __init__(self, config: TrainConfig, run_dir: Path) -> None:
        self.config = config
        self.run_dir = run_dir
        self.device = torch.device("cpu")
        self.rng = np.random.default_rng(config.seed)
        self.artifact_net = RECONSTRUCTORS[config.artifact_architecture]().to(memory_format=torch.channels_last)
        self.down_net = RECONSTRUCTORS[config.down_architecture]().to(memory_format=torch.channels_last)
        self.com_net = ComCNN().to(memory_format=torch.channels_last)
        self.state = {"stage": 0, "step": 0, "elapsed": 0.0, "down_initialised": False}
        self.optimizer: torch.optim.Optimizer | None = None
        self._compact_cache: tuple[np.ndarray, np.ndarray] | None = None
        self.reconstruction_loss = LOSSES[config.loss]

    # ----- data -----------------------------------------------------------------------------
    def prepare(self) -> None:
        """Build (once) and load the patch sets; later runs reuse the cached files."""
        paths = data.training_images(Path(self.config.data_dir))
        train, val = data.split_validation(paths, self.config.validation_images)
        cfg = self.config

        def pairs(subset: list[Path], crops: int, encodes: int, seed: int) -> PatchSet:
            return data.artifact_patches(
                subset,
                patch=cfg.patch,
                crops=crops,
                encodes=encodes,
                qualities=cfg.artifact_qualities,
                seed=seed,
                codec=cfg.codec,
                round_trip=legacy_round_trip if cfg.legacy else None,
            )

        specs = {
            "artifacts_train": lambda: pairs(train, cfg.artifact_crops, cfg.artifact_encodes, cfg.seed),
            "artifacts_val": lambda: pairs(val, 4, 4, cfg.seed + 1),
        }
        for name, build in specs.items():
            path = self.run_dir / f"{name}.npz"
            if not path.exists():
                log.info("preparing %s", name)
                build().save(path)
            setattr(self, name, PatchSet.load(path))
        for name, subset, crops in (("clean_train", train, 40), ("clean_val", val, 16)):
            path = self.run_dir / f"{name}.npy"
            if not path.exists():
                np.save(path, data.clean_patches(subset, patch=cfg.patch, crops=crops, seed=cfg.seed + 2))
            setattr(self, name, np.load(path))

    def compact_codec_pass(self, clean: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Frozen ComCNN → uint8 → real JPEG at random quality → decode: (decoded compact, condition)."""
        rng = np.random.default_rng(seed)
        decoded, conditions = [], []
        self.com_net.eval()
        for start in range(0, len(clean), 64):
            with torch.no_grad(), autocast(self.device):
                compact = self.com_net(to_tensor(clean[start : start + 64])).float()
            pixels = (compact.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()
            for pixel_block in pixels:
                quality = int(rng.integers(self.config.compact_qualities[0], self.config.compact_qualities[1] + 1))
                buffer = io.BytesIO()
                Image.fromarray(pixel_block).save(buffer, "JPEG", quality=quality, subsampling="4:2:0")
                image, condition = data.decode_jpeg(buffer.getvalue())
                decoded.append(image)
                conditions.append(condition)
        return np.stack(decoded), np.asarray(conditions, dtype=np.float32)

    # ----- one step of each stage kind ----------------------------------------------------------
    def _batch_indices(self, size: int) -> np.ndarray:
        return self.rng.integers(0, size, self.config.batch)

    def step_artifacts(self) -> torch.Tensor:
        s = self.artifacts_train
        idx = self._batch_indices(len(s.clean))
        clean, degraded = augment(self.rng, s.clean[idx], s.degraded[idx])
        with autocast(self.device):
            out = self.artifact_net(to_tensor(degraded), torch.from_numpy(s.condition[idx]))
        return self.reconstruction_loss(out, to_tensor(clean))

    def step_down_rec(self) -> torch.Tensor:
        decoded, condition = self._compact_cache  # type: ignore[misc]
        idx = self._batch_indices(len(decoded))
        clean, compact = augment(self.rng, self.clean_train[idx], decoded[idx])
        with autocast(self.device):
            out = self.down_net(upsample(to_tensor(compact)), torch.from_numpy(condition[idx]))
        return self.reconstruction_loss(out, to_tensor(clean))

    def step_down_com(self) -> torch.Tensor:
        idx = self._batch_indices(len(self.clean_train))
        (clean,) = augment(self.rng, self.clean_train[idx])
        target = to_tensor(clean)
        qualities = self.rng.integers(*self.config.compact_qualities, size=self.config.batch)
        condition = torch.tensor([condition_from_quality(int(q)) for q in qualities], dtype=torch.float32)
        with autocast(self.device):
            compact = self.com_net(target).float()
            rounded = compact + ((compact.clamp(0, 1) * 255).round() / 255 - compact).detach()
            out = self.down_net(upsample(rounded), condition)
        anchor = (compact - F.avg_pool2d(target, 2)).abs().mean()
        return self.reconstruction_loss(out, target) + self.config.com_anchor_weight * anchor

    # ----- validation ---------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self, kind: str) -> dict[str, float]:
        """PSNR of the stage's output and of its input baseline on held-out photos."""
        if kind == "artifacts":
            s = self.artifacts_val
            ins, outs, refs = [], [], []
            for start in range(0, len(s.clean), 32):
                sl = slice(start, start + 32)
                x = to_tensor(s.degraded[sl])
                with autocast(self.device):
                    outs.append(self.artifact_net(x, torch.from_numpy(s.condition[sl])).float())
                ins.append(x)
                refs.append(to_tensor(s.clean[sl]))
            ref = torch.cat(refs)
            return {"psnr_in": psnr(torch.cat(ins), ref), "psnr_out": psnr(torch.cat(outs), ref)}
        decoded, condition = self.compact_codec_pass(self.clean_val, seed=12345)
        ins, outs = [], []
        for start in range(0, len(decoded), 32):
            sl = slice(start, start + 32)
            up = upsample(to_tensor(decoded[sl]))
            with autocast(self.device):
                outs.append(self.down_net(up, torch.from_numpy(condition[sl])).float())
            ins.append(up)
        ref = to_tensor(self.clean_val)
        return {"psnr_bicubic": psnr(torch.cat(ins), ref), "psnr_out": psnr(torch.cat(outs), ref)}

    # ----- the run ------------------------------------------------------------------------------
    def _trainable(self, kind: str) -> torch.nn.Module:
        return {"artifacts": self.artifact_net, "down-rec": self.down_net, "down-com": self.com_net}[kind]

    def _begin_stage(self, kind: str) -> None:
        for net in (self.artifact_net, self.down_net, self.com_net):
            net.requires_grad_(False)
            net.eval()
        if kind.startswith("down") and not self.state["down_initialised"]:
            self._initialise_down_from(self.artifact_net)
        if kind == "down-rec":
            self._compact_cache = self.compact_codec_pass(self.clean_train, seed=self.config.seed + self.state["stage"])
        net = self._trainable(kind)
        net.requires_grad_(True)
        net.train()
        self.optimizer = torch.optim.Adam(net.parameters(), lr=self.config.learning_rate)

    def _learning_rate(self, fraction: float, step: int) -> float:
        cfg = self.config
        cosine = cfg.final_learning_rate + 0.5 * (cfg.learning_rate - cfg.final_learning_rate) * (
            1 + math.cos(math.pi * min(fraction, 1.0))
        )
        return cosine * min(1.0, (step + 1) / cfg.warmup_steps)

    def checkpoint(self) -> None:
        """Atomically save models, optimizer and progress."""
        payload = {
            "state": self.state,
            "artifact_net": self.artifact_net.state_dict(),
            "down_net": self.down_net.state_dict(),
            "com_net": self.com_net.state_dict(),
            "optimizer": self.optimizer.state_dict() if self.optimizer else None,
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
        self.state = payload["state"]
        for name in ("artifact_net", "down_net", "com_net"):
            getattr(self, name).load_state_dict(payload[name])
        self._pending_optimizer = payload["optimizer"]
        return True

    def start_from_weights(self) -> None:
        """Initialise a fresh run from the installed (committed) weights instead of from scratch."""
        from jpegplus.modes import Mode, model_name
        from jpegplus.weights import load_model

        artifacts = load_model(model_name(self.config.codec, Mode.FULL))
        down = load_model("jpeg-downsample")
        copy_weights(artifacts.reconstruct, self.artifact_net)
        if down.compact is not None:
            self.com_net.load_state_dict(down.compact.state_dict())
        # a new down architecture starts from an artifact model it fits
        self._initialise_down_from(down.reconstruct)
        self._initialise_down_from(artifacts.reconstruct)
        log.info("starting from %s and %s", artifacts.spec.model_id, down.spec.model_id)

    def _initialise_down_from(self, net: torch.nn.Module) -> None:
        """Copy ``net`` into the half-resolution reconstructor once, if it fits (``copy_weights``)."""
        if not self.state["down_initialised"] and copy_weights(net, self.down_net):
            self.state["down_initialised"] = True

    def run(self, *, from_weights: bool = False) -> None:
        """Run (or continue) every stage of the plan; a new run may start from the installed weights."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(asdict(self.config), indent=2))
        resumed = self.resume()
        if not resumed and from_weights:
            self.start_from_weights()
        self.prepare()
        while self.state["stage"] < len(self.config.plan):
            stage = self.config.plan[self.state["stage"]]
            self._begin_stage(stage.kind)
            if resumed and self._pending_optimizer is not None:
                self.optimizer.load_state_dict(self._pending_optimizer)  # type: ignore[union-attr]
            resumed = False
            self._run_stage(stage)
            log.info("stage %d (%s) done: %s", self.state["stage"], stage.kind, self.validate(stage.kind))
            self.state.update(stage=self.state["stage"] + 1, step=0, elapsed=0.0)
            self.checkpoint()
            shutil.copyfile(self.run_dir / "checkpoint.pt", self.run_dir / f"after-stage-{self.state['stage']}.pt")

    def _run_stage(self, stage: Stage) -> None:
        step_fn = {"artifacts": self.step_artifacts, "down-rec": self.step_down_rec, "down-com": self.step_down_com}
        budget = stage.minutes * 60.0
        last_save = last_log = time.monotonic()
        started = time.monotonic() - self.state["elapsed"]
        losses: list[float] = []
        while self.state["elapsed"] < budget:
            lr = self._learning_rate(self.state["elapsed"] / budget, self.state["step"])
            for group in self.optimizer.param_groups:  # type: ignore[union-attr]
                group["lr"] = lr
            loss = step_fn[stage.kind]()
            self.optimizer.zero_grad(set_to_none=True)  # type: ignore[union-attr]
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self._trainable(stage.kind).parameters(), 0.5)
            self.optimizer.step()  # type: ignore[union-attr]
            losses.append(loss.item())
            self.state["step"] += 1
            now = time.monotonic()
            self.state["elapsed"] = now - started
            if now - last_log > 60:
                log.info(
                    "stage %d %s step %d %.1f/%.0f min lr %.2e loss %.5f",
                    self.state["stage"], stage.kind, self.state["step"], self.state["elapsed"] / 60,
                    stage.minutes, lr, float(np.mean(losses)),
                )  # fmt: skip
                losses.clear()
                last_log = now
            if now - last_save > self.config.checkpoint_minutes * 60:
                log.info("validation %s", self.validate(stage.kind))
                self.checkpoint()
                last_save = time.monotonic()
