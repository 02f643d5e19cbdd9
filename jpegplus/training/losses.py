"""Reconstruction losses of the training stages."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from pytorch_msssim import ms_ssim
from torch.nn import functional as F

from jpegplus.training.config import Loss, TrainConfig

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def charbonnier(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth L1-like loss, robust early and close to L2 behaviour near zero."""
    return torch.sqrt((output.float() - target.float()) ** 2 + 1e-6).mean()


def mean_squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The loss PSNR measures: for fine-tuning a model first trained with :func:`charbonnier`."""
    return F.mse_loss(output.float(), target.float())


def mse_and_ms_ssim(output: torch.Tensor, target: torch.Tensor, share: float) -> torch.Tensor:
    """MSE plus ``share`` × (1 − MS-SSIM), the two metrics the benchmarks report (RGB in [0, 1])."""
    output, target = output.float(), target.float()
    similarity = ms_ssim(output.clamp(0, 1), target, data_range=1.0, size_average=True)
    return F.mse_loss(output, target) + share * (1 - similarity)


def reconstruction_loss(config: TrainConfig) -> LossFunction:
    """The loss ``config`` names (with its MS-SSIM share where it has that term)."""
    if config.loss is Loss.MSE_MS_SSIM:
        return partial(mse_and_ms_ssim, share=config.ms_ssim_share)
    return {Loss.CHARBONNIER: charbonnier, Loss.MSE: mean_squared_error}[config.loss]
