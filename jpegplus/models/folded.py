"""What the reconstruction networks share: half-resolution folding, condition planes, a global residual."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

CONDITION_CHANNELS = 2
FOLDED_CHANNELS = 12 + CONDITION_CHANNELS  # pixel-unshuffled RGB + condition planes: the trunk's input
FREEZE_EXAMPLE_SIDE = 128  # image side traced (64 folded); oneDNN prepacks for it (32 folded: 7% slower at 768×512)

GriddedFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (image, condition) → image, sides on the grid


class ResidualPair(nn.Module):
    """Two 3×3 convolutions with a ReLU between them and an identity skip."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in place on fresh convolution outputs (their backward does not need them): ~9% faster on CPU
        return self.conv2(F.relu(self.conv1(x), inplace=True)).add_(x)


class FoldedResidualNet(nn.Module):
    """Degraded image + condition → repaired image, the trunk working at half resolution.

    The image is padded to a multiple of ``grid``, folded to half resolution by pixel-unshuffle
    and joined by constant condition planes; the subclass's :meth:`trunk` (convolutions only, no
    Python shape logic) maps that to 12 residual channels, unfolded and added to the image.
    Past the padding, :meth:`gridded` has no shape logic, so it traces once for every image size:
    :meth:`freeze` (TorchScript), or an exported graph set as :attr:`frozen` by a runtime backend.

    Shape:
        - image: (B, 3, H, W) in [0, 1].
        - condition: (B, 2), the normalised luma and chroma quantizer strength.
        - output: (B, 3, H, W) in the dtype of the image; the trunk computes in its weights' dtype.
    """

    grid = 2  # input sides are padded to a multiple of this

    def __init__(self) -> None:
        super().__init__()
        self.frozen: GriddedFn | None = None

    def trunk(self, folded: torch.Tensor) -> torch.Tensor:
        """(B, FOLDED_CHANNELS, H/2, W/2) → (B, 12, H/2, W/2) residual."""
        raise NotImplementedError

    def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return on_grid(self.gridded if self.frozen is None else self.frozen, self.grid, image, condition)

    def gridded(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` for sides that are multiples of :attr:`grid`: fold, trunk, unfold, add."""
        dtype = self.tail.weight.dtype
        folded = F.pixel_unshuffle(image, 2).to(dtype)
        planes = condition[:, :, None, None].expand(-1, -1, *folded.shape[2:]).to(dtype)
        residual = F.pixel_shuffle(self.trunk(torch.cat([folded, planes], dim=1)), 2)
        return image + residual.to(image.dtype)

    def example(self, side: int = FREEZE_EXAMPLE_SIDE) -> tuple[torch.Tensor, torch.Tensor]:
        """A channels-last (image, condition) pair of :meth:`gridded`'s inputs, for tracing and export."""
        side -= side % self.grid
        image = torch.zeros(1, 3, side, side).contiguous(memory_format=torch.channels_last)
        return image, torch.zeros(1, CONDITION_CHANNELS)

    @torch.no_grad()
    def freeze(self) -> None:
        """Trace and freeze :meth:`gridded` for inference (any input size afterwards).

        Freezing makes the weights constants of a TorchScript graph that runs without Python
        dispatch: a 768×512 RestoreNet pass measured 15-20% faster, for 0.2-0.3 s once per process.
        TorchScript is deprecated in favour of ``torch.compile``, whose CPU compile takes far
        longer than a whole decode; its warning is silenced here.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            traced = torch.jit.trace(GriddedView(self).eval(), self.example())
            self.frozen = torch.jit.freeze(traced)


def on_grid(gridded: GriddedFn, grid: int, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
    """``gridded`` on ``image`` padded to a multiple of ``grid`` (its edges replicated), cropped back."""
    height, width = image.shape[2:]
    pad_h, pad_w = -height % grid, -width % grid
    padded = F.pad(image, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else image
    restored = gridded(padded, condition)
    return restored[:, :, :height, :width] if pad_h or pad_w else restored


class GriddedView(nn.Module):
    """A module whose forward is another network's :meth:`FoldedResidualNet.gridded`, for tracing and export."""

    def __init__(self, net: FoldedResidualNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.net.gridded(image, condition)
