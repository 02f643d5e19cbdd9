"""What a training run depends on: its plan of stages and a typed configuration stored beside it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from jpegplus.codecs import list_codecs
from jpegplus.models import RECONSTRUCTORS
from jpegplus.training.legacy import KIND_SHARES

SHIPPED_ARCHITECTURE = "LeanRestoreNet"  # the reconstruction network the shipped weights use
MS_SSIM_MIN_SIDE = 160  # pytorch-msssim's 5 scales with its 11-pixel window need a longer side than this


class StageKind(str, enum.Enum):
    """Which network learns in a stage (the paper's alternation: the others are frozen)."""

    ARTIFACTS = "artifacts"  # the full-resolution artifact model on real codec decodes
    DOWN_REC = "down-rec"  # the half-resolution reconstructor, behind a frozen ComCNN and the real codec
    DOWN_COM = "down-com"  # the ComCNN, through the frozen reconstructor and a rounding proxy of the codec

    @property
    def half_resolution(self) -> bool:
        """Whether the stage trains the half-resolution path (and needs clean patches and its models)."""
        return self is not StageKind.ARTIFACTS


class Loss(str, enum.Enum):
    """Reconstruction losses."""

    CHARBONNIER = "charbonnier"  # L1-like and robust: for training from scratch
    MSE = "mse"  # what PSNR measures: for fine-tuning
    MSE_MS_SSIM = "mse+ms-ssim"  # MSE plus a share of 1 - MS-SSIM: fine-tuning for both metrics (patches > 160)


@dataclass(frozen=True)
class Stage:
    """One training stage: what learns (kind) and for how many minutes."""

    kind: StageKind
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
    gradient_clip: float = 0.5
    # decay of an exponential moving average of the trained network's weights (torch's AveragedModel), which is
    # then what validation measures and the checkpoint exports; None trains and exports the raw weights
    average_decay: float | None = None
    artifact_qualities: tuple[int, int] = (5, 95)
    artifact_crops: int = 5  # crops per encode of each photo
    artifact_encodes: int = 8  # random codec encodes of each photo
    compact_qualities: tuple[int, int] = (10, 95)
    artifact_architecture: str = SHIPPED_ARCHITECTURE
    down_architecture: str = SHIPPED_ARCHITECTURE  # the half-resolution path's reconstruction network
    # artifact stages train only the tensors this smaller architecture lacks (a grown network's new pairs)
    frozen_architecture: str | None = None
    codec: str = "jpeg"  # the codec whose decodes the artifact model learns to repair
    legacy: bool = False  # JPEG pairs as people have them (re-compressed, shifted, resized, jpegli): enhance's model
    legacy_kinds: tuple[str, ...] = ()  # the kinds of legacy file drawn, in their shares (empty: every kind)
    compress_pairs: bool = False  # every JPEG pair as compress writes full mode for the installed networks
    com_anchor_weight: float = 0.1  # keeps the compact image near a box-filtered photo (plain viewers see it)
    loss: Loss = Loss.CHARBONNIER
    # weight of (1 − MS-SSIM) beside MSE in the mse+ms-ssim loss: 1 − MS-SSIM of a low-rate decode is ~25× its
    # MSE, so 0.03 weighs the two terms near equally; more trades PSNR for MS-SSIM
    ms_ssim_share: float = 0.03
    validation_images: int = 10
    validation_crops: int = 4  # per encode of each held-out photo
    validation_encodes: int = 4
    clean_crops: int = 40  # clean patches per training photo for the half-resolution stages
    clean_validation_crops: int = 16
    checkpoint_minutes: float = 3.0
    seed: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for architecture in (self.artifact_architecture, self.down_architecture, self.frozen_architecture):
            if architecture is not None and architecture not in RECONSTRUCTORS:
                msg = f"unknown architecture {architecture!r}; known: {', '.join(sorted(RECONSTRUCTORS))}"
                raise ValueError(msg)
        if self.codec not in list_codecs():
            msg = f"unknown codec {self.codec!r}; known: {', '.join(list_codecs())}"
            raise ValueError(msg)
        self.loss = parse_loss(self.loss)  # config.json of a run holds the name
        if self.legacy and self.compress_pairs:
            msg = "choose legacy pairs or compress pairs, not both"
            raise ValueError(msg)
        if unknown := set(self.legacy_kinds) - set(KIND_SHARES):
            msg = f"unknown legacy kinds {', '.join(sorted(unknown))}; known: {', '.join(KIND_SHARES)}"
            raise ValueError(msg)
        if self.legacy_kinds and not self.legacy:
            msg = "legacy kinds choose among legacy pairs: add --legacy"
            raise ValueError(msg)
        if self.average_decay is not None and not 0 < self.average_decay < 1:
            msg = f"the weight average's decay must lie between 0 and 1, not {self.average_decay}"
            raise ValueError(msg)
        if self.loss is Loss.MSE_MS_SSIM and self.patch <= MS_SSIM_MIN_SIDE:
            msg = f"the {self.loss.value} loss needs patches above {MS_SSIM_MIN_SIDE} pixels (5-scale MS-SSIM)"
            raise ValueError(msg)

    @property
    def trains_half_resolution(self) -> bool:
        """Whether any stage trains the half-resolution path."""
        return any(stage.kind.half_resolution for stage in self.plan)


def parse_plan(text: str) -> list[Stage]:
    """``"artifacts:45,down-rec:20"`` → stages."""
    stages = []
    for item in text.split(","):
        kind, _, minutes = item.partition(":")
        try:
            stages.append(Stage(StageKind(kind), float(minutes)))
        except ValueError:
            known = ", ".join(k.value for k in StageKind)
            msg = f"bad stage {item!r}: use KIND:MINUTES with KIND in {known}"
            raise ValueError(msg) from None
    return stages


def parse_loss(text: str) -> Loss:
    """``"mse"`` → :attr:`Loss.MSE`."""
    try:
        return Loss(text)
    except ValueError:
        msg = f"unknown loss {text!r}; known: {', '.join(loss.value for loss in Loss)}"
        raise ValueError(msg) from None


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
