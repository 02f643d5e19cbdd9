"""The fixed 2× upsampling in front of the half-resolution reconstructor: training and inference share it."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def upsample2x(compact: torch.Tensor) -> torch.Tensor:
    """Bicubic 2× (B, C, H, W) → (B, C, 2H, 2W), as the half-resolution models learned it."""
    return F.interpolate(compact, scale_factor=2, mode="bicubic", align_corners=False)
