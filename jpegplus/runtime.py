"""Where and how the networks run: device, bf16 support, thread count."""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

import torch

from jpegplus.errors import InvalidOptionError
from jpegplus.models.folded import FoldedResidualNet


@functools.cache
def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where bf16 pays off.

    ``JPEGPLUS_PRECISION=fp32`` forces the fp32 path (for CPUs that emulate bf16 slowly).
    """
    if os.environ.get("JPEGPLUS_PRECISION", "").lower() == "fp32":
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_device(device: str | None) -> torch.device:
    """``None``/"auto" picks CUDA when torch sees one, else the CPU; a device torch cannot use is refused."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        msg = f"unknown device {device!r}; use cpu, cuda, cuda:N or auto"
        raise InvalidOptionError(msg) from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        msg = f"device {device!r} is not available: this torch sees no CUDA GPU; use cpu or auto"
        raise InvalidOptionError(msg)
    if chosen.type not in ("cpu", "cuda"):
        msg = f"device {device!r} is not supported; use cpu, cuda, cuda:N or auto"
        raise InvalidOptionError(msg)
    return chosen


def uses_bf16(device: torch.device) -> bool:
    """bf16 where the hardware has it: CUDA, or CPUs with bf16 units."""
    return device.type == "cuda" or cpu_has_bf16()


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast where the hardware has it; fp32 otherwise (training)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=uses_bf16(device))


@functools.cache
def runnable(net: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """An inference copy of ``net`` on ``device``, its weights cast once to bf16 where that runs natively.

    Cheaper than autocast, which re-casts every weight on every call; the networks keep their
    skip connections in the input's fp32. On the CPU a reconstruction network's trunk is also
    frozen (TorchScript), once per process.
    """
    dtype = torch.bfloat16 if uses_bf16(device) else torch.float32
    model = copy.deepcopy(net).to(device=device, dtype=dtype).to(memory_format=torch.channels_last)
    if device.type == "cpu" and isinstance(model, FoldedResidualNet):
        model.freeze_trunk()
    return model
