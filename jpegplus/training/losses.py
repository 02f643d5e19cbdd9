"""Reconstruction losses of the training stages."""

from __future__ import annotations

import torch
from pytorch_msssim import ms_ssim
from torch.nn import functional as F

from jpegplus.training.config import Loss


def charbonnier(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth L1-like loss, robust early and close to L2 behaviour near zero."""
    return torch.sqrt((output.float() - target.float()) ** 2 + 1e-6).mean()


def mean_squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The loss PSNR measures: for fine-tuning a model first trained with :func:`charbonnier`."""
    return F.mse_loss(output.float(), target.float())


def mse_and_ms_ssim(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE plus :data:`MS_SSIM_SHARE` × (1 − MS-SSIM), the two metrics the benchmarks report (RGB in [0, 1])."""
    output, target = output.float(), target.float()
    similarity = ms_ssim(output.clamp(0, 1), target, data_range=1.0, size_average=True)
    return F.mse_loss(output, target) + MS_SSIM_SHARE * (1 - similarity)


MS_SSIM_SHARE = 0.03  # 1 − MS-SSIM of a low-rate decode is ~25× its MSE: this weighs the two terms near equally
LOSSES = {Loss.CHARBONNIER: charbonnier, Loss.MSE: mean_squared_error, Loss.MSE_MS_SSIM: mse_and_ms_ssim}
