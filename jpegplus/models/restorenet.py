"""Multi-scale artifact-removal network: a small residual U-Net run at half resolution."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from jpegplus.models.reccnn import CONDITION_CHANNELS, ResidualPair


class RestoreNet(nn.Module):
    """Residual U-Net for codec artifact removal, conditioned on the quantizer strength.

    The same contract as :class:`RecCNN` (degraded image + condition → repaired image), with
    the work spread over four scales: the image is folded to half resolution by
    pixel-unshuffle, then each level halves the resolution and doubles the width. A 3×3
    convolution at a coarse level costs as much as one at the finest level but sees an 8×
    larger area, so JPEG's 8×8-block errors at low quality are seen whole for a third of the
    cost of the 20-layer plain stack::

        x ─ unshuffle(2) ⊕ cond ─ head ─ E0 ─ ↓ ─ E1 ─ ↓ ─ E2 ─ ↓ ─ B ─ ↑ ⊕ D2 ─ ↑ ⊕ D1 ─ ↑ ⊕ D0 ─ tail ─ shuffle(2) ⊕ x
                                         └──────────┴──────────┴────────────────┘ (skips)

    Args:
        widths: channels of the four levels (half, quarter, eighth, sixteenth resolution).
        pairs: residual pairs (2 convolutions each) per encoder and decoder level and in the bottleneck.

    Shape: as :class:`RecCNN`; H and W multiples of 16 avoid internal padding.
    """

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256), pairs: int = 2) -> None:
        super().__init__()
        self.head = nn.Conv2d(12 + CONDITION_CHANNELS, widths[0], 3, padding=1)
        self.encoders = nn.ModuleList(_stack(w, pairs) for w in widths[:-1])
        steps = list(zip(widths, widths[1:], strict=False))
        self.downs = nn.ModuleList(nn.Conv2d(fine, coarse, 2, stride=2) for fine, coarse in steps)
        self.bottleneck = _stack(widths[-1], pairs)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(coarse, fine, 2, stride=2) for fine, coarse in steps)
        self.decoders = nn.ModuleList(_stack(w, pairs) for w in widths[:-1])
        self.tail = nn.Conv2d(widths[0], 12, 3, padding=1)
        nn.init.zeros_(self.tail.weight)
        nn.init.zeros_(self.tail.bias)

    def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        height, width = image.shape[2:]
        multiple = 2 ** len(self.downs) * 2
        pad_h, pad_w = -height % multiple, -width % multiple
        padded = F.pad(image, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else image
        folded = F.pixel_unshuffle(padded, 2).to(self.head.weight.dtype)
        planes = condition[:, :, None, None].expand(-1, -1, *folded.shape[2:])
        x = self.head(torch.cat([folded, planes.to(folded.dtype)], dim=1))
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x)
        for decoder, up, skip in zip(reversed(self.decoders), reversed(self.ups), reversed(skips), strict=True):
            x = decoder(up(x) + skip)
        residual = F.pixel_shuffle(self.tail(x), 2)[:, :, :height, :width]
        return image + residual.to(image.dtype)


def _stack(channels: int, pairs: int) -> nn.Sequential:
    return nn.Sequential(*(ResidualPair(channels) for _ in range(pairs)))
