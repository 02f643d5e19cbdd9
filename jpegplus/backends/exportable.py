"""What a runtime backend converts: a network's traceable forward and example inputs with free sizes."""

from __future__ import annotations

import copy

import torch

from jpegplus.backends.graphcache import weights_digest
from jpegplus.models.folded import FoldedResidualNet, GriddedView

EXAMPLE_SIDE = 64  # traced image side: any multiple of the networks' grids


def exportable(net: torch.nn.Module) -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
    """An fp32 eval copy of ``net`` to trace and its example inputs.

    A reconstruction network's exported part is :meth:`FoldedResidualNet.gridded` (fold, condition
    planes, trunk, unfold, skip), which measured faster in OpenVINO than exporting the trunk alone;
    padding to the grid stays in PyTorch (:func:`jpegplus.models.folded.on_grid`).
    """
    fp32 = copy.deepcopy(net).float().eval()
    if isinstance(fp32, FoldedResidualNet):
        fp32.frozen = None
        return GriddedView(fp32), fp32.example(EXAMPLE_SIDE)
    return fp32, (torch.zeros(1, 3, EXAMPLE_SIDE, EXAMPLE_SIDE),)


def graph_key(net: torch.nn.Module) -> str:
    """A cache entry's name for ``net``: its class and the digest of its weights."""
    return f"{type(net).__name__}-{weights_digest(net)[:24]}"
