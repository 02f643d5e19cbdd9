"""The PyTorch inference form: weights cast once, channels-last, the reconstruction networks frozen."""

from __future__ import annotations

import copy

import torch

from jpegplus.models.folded import FoldedResidualNet
from jpegplus.runtime import Precision


def prepare(net: torch.nn.Module, device: torch.device, precision: Precision) -> torch.nn.Module:
    """A copy of ``net`` on ``device`` with its weights cast once to ``precision``.

    Cheaper than autocast, which re-casts every weight on every call; the networks keep their
    skip connections in the input's fp32. On the CPU a reconstruction network is also frozen
    (TorchScript, :meth:`FoldedResidualNet.freeze`).
    """
    dtype = torch.bfloat16 if precision is Precision.BF16 else torch.float32
    model = copy.deepcopy(net).to(device=device, dtype=dtype).to(memory_format=torch.channels_last)
    if device.type == "cpu" and isinstance(model, FoldedResidualNet):
        model.freeze()
    return model
