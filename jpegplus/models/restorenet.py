"""Multi-scale artifact-removal network: a small residual U-Net run at half resolution."""

from __future__ import annotations

import torch
from torch import nn

from jpegplus.models.folded import FOLDED_CHANNELS, FoldedResidualNet, ResidualPair, zero_init


class RestoreNet(FoldedResidualNet):
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
        pairs: residual pairs (2 convolutions each) per encoder level: one count for every level,
            or one per level from the finest.
        bottleneck_pairs: residual pairs at the coarsest level (default ``pairs``). Zero makes the
            lean variant: the sixteenth-resolution level is then only the 2×2 step down and up.
        decoder_pairs: residual pairs per decoder level, as ``pairs`` (default ``pairs``).

    Shape: as :class:`FoldedResidualNet`; H and W multiples of 32 avoid padding.
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        pairs: int | tuple[int, ...] = 2,
        bottleneck_pairs: int | None = None,
        decoder_pairs: int | tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        levels = len(widths) - 1
        encoder_counts = _per_level(pairs, levels)
        decoder_counts = encoder_counts if decoder_pairs is None else _per_level(decoder_pairs, levels)
        self.head = nn.Conv2d(FOLDED_CHANNELS, widths[0], 3, padding=1)
        self.encoders = nn.ModuleList(_stack(w, n) for w, n in zip(widths, encoder_counts, strict=False))
        steps = list(zip(widths, widths[1:], strict=False))
        self.downs = nn.ModuleList(nn.Conv2d(fine, coarse, 2, stride=2) for fine, coarse in steps)
        self.bottleneck = _stack(widths[-1], encoder_counts[-1] if bottleneck_pairs is None else bottleneck_pairs)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(coarse, fine, 2, stride=2) for fine, coarse in steps)
        self.decoders = nn.ModuleList(_stack(w, n) for w, n in zip(widths, decoder_counts, strict=False))
        self.tail = nn.Conv2d(widths[0], 12, 3, padding=1)
        self.grid = 2 ** len(widths)  # pixel-unshuffle, then a stride-2 step per coarser level
        zero_init(self.tail)

    def trunk(self, folded: torch.Tensor) -> torch.Tensor:
        """Head, encoder levels, bottleneck, decoder levels with skips, tail."""
        x = self.head(folded)
        skips = []
        for encoder, down in zip(self.encoders, self.downs, strict=True):
            x = encoder(x)
            skips.append(x)
            x = down(x)
        x = self.bottleneck(x)
        for decoder, up, skip in zip(reversed(self.decoders), reversed(self.ups), reversed(skips), strict=True):
            x = decoder(up(x) + skip)
        return self.tail(x)


def _stack(channels: int, pairs: int) -> nn.Sequential:
    return nn.Sequential(*(ResidualPair(channels) for _ in range(pairs)))


def _per_level(pairs: int | tuple[int, ...], levels: int) -> tuple[int, ...]:
    counts = (pairs,) * levels if isinstance(pairs, int) else tuple(pairs)
    if len(counts) != levels:
        msg = f"{len(counts)} pair counts for {levels} levels"
        raise ValueError(msg)
    return counts
