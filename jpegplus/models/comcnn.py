"""Compact-representation network (ComCNN)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from jpegplus.models.folded import zero_init


class ComCNN(nn.Module):
    """Three-layer compact CNN that halves the resolution, after Jiang et al. (2018).

    "An End-to-End Compression Framework Based on Convolutional Neural Networks",
    https://arxiv.org/abs/1708.00838. The network learns a correction on top of a
    2×2 area downsample, so an untrained ComCNN is exactly that downsample and
    training can only move it towards what the RecCNN reconstructs best::

        x ─ conv ─ relu ─ conv/2 ─ relu ─ conv ─⊕─ compact
        └──────────── area/2 ──────────────────┘

    Args:
        channels: width of the hidden layers.

    Shape:
        - image: (B, 3, H, W) in [0, 1], H and W even.
        - output: (B, 3, H/2, W/2) in the dtype of the image, not clamped.
    """

    def __init__(self, channels: int = 64) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(channels, 3, 3, padding=1)
        zero_init(self.conv3)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(self.conv2(F.relu(self.conv1(image.to(self.conv1.weight.dtype)))))
        return F.avg_pool2d(image, 2) + self.conv3(hidden).to(image.dtype)
