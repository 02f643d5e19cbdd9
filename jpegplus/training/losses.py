"""Reconstruction losses of the training stages."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from jpegplus.training.config import Loss


def charbonnier(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth L1-like loss, robust early and close to L2 behaviour near zero."""
    return torch.sqrt((output.float() - target.float()) ** 2 + 1e-6).mean()


def mean_squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The loss PSNR measures: for fine-tuning a model first trained with :func:`charbonnier`."""
    return F.mse_loss(output.float(), target.float())


LOSSES = {Loss.CHARBONNIER: charbonnier, Loss.MSE: mean_squared_error}
