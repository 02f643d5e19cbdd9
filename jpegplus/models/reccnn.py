"""Reconstruction network (RecCNN) run at half resolution."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from jpegplus.models.folded import FOLDED_CHANNELS, FoldedResidualNet, ResidualPair, zero_init


class RecCNN(FoldedResidualNet):
    """20-weight-layer residual reconstruction CNN, after Jiang et al. (2018).

    "An End-to-End Compression Framework Based on Convolutional Neural Networks",
    https://arxiv.org/abs/1708.00838. The degraded full-resolution image (a decoded
    codec image, bicubically upsampled first in the half-resolution mode) is folded
    to half resolution by pixel-unshuffle, so every 3×3 convolution sees a 4× larger
    area for a quarter of the cost. The codec strength enters as constant condition
    planes (from the JPEG quantization tables), so one model covers all qualities::

        x ─┬─ unshuffle(2) ─ cat(cond) ─ conv ─ 9 × [conv─relu─conv ⊕] ─ conv ─ shuffle(2) ─⊕─ y
           └──────────────────────────────────────────────────────────────────────────────┘

    Args:
        channels: width of the body.
        pairs: number of residual pairs (2 convolutions each); 9 pairs + head + tail = 20.

    Shape: as :class:`FoldedResidualNet`.
    """

    def __init__(self, channels: int = 64, pairs: int = 9) -> None:
        super().__init__()
        self.head = nn.Conv2d(FOLDED_CHANNELS, channels, 3, padding=1)
        body = [ResidualPair(channels) for _ in range(pairs)]
        for pair in body:
            zero_init(pair.conv2)
        self.body = nn.Sequential(*body)
        self.tail = nn.Conv2d(channels, 12, 3, padding=1)
        zero_init(self.tail)

    def trunk(self, folded: torch.Tensor) -> torch.Tensor:
        """Head, residual pairs, tail."""
        return self.tail(self.body(F.relu(self.head(folded))))
