"""Where and how the networks run: device, CPU features, runtime (PyTorch, OpenVINO), precision.

The choice is made at run time: OpenVINO where it is installed and the networks run on the CPU
(it measured faster than PyTorch and ONNX Runtime on every CPU tried, `benchmarks/speed/`), PyTorch
otherwise and for training. ``JPEGPLUS_RUNTIME`` (torch, openvino, onnxruntime) and
``JPEGPLUS_PRECISION`` (bf16, fp32) force a choice, for benchmarks and bug reports.
"""

from __future__ import annotations

import enum
import functools
import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

from jpegplus.errors import InvalidOptionError, JpegPlusError

log = logging.getLogger(__name__)

E = TypeVar("E", bound=enum.Enum)
M = TypeVar("M", bound=torch.nn.Module)

RUNTIME_VARIABLE = "JPEGPLUS_RUNTIME"
PRECISION_VARIABLE = "JPEGPLUS_PRECISION"
BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # native bf16 arithmetic: there bf16 pays off
ISA_CAP_VARIABLE = "ONEDNN_MAX_CPU_ISA"  # oneDNN's instruction-set cap (PyTorch's and OpenVINO's convolutions)
BF16_ISA_CAPS = ("AVX512_CORE_BF16", "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX10", "DEFAULT", "ALL")
SIMD_FLAGS = ("amx_bf16", "amx_int8", "avx512_bf16", "avx512_vnni", "avx512f", "avx_vnni", "avx2", "fma")

Runnable = Callable[..., torch.Tensor]  # tensors in, a float tensor out, as the network's forward


class RuntimeFailure(JpegPlusError, RuntimeError):
    """The runtime that ``JPEGPLUS_RUNTIME`` forces cannot run a network."""


class Runtime(str, enum.Enum):
    """What executes the networks' inference."""

    TORCH = "torch"
    OPENVINO = "openvino"
    ONNXRUNTIME = "onnxruntime"  # fp32 only (its CPU kernels have no bf16 convolutions)

    @property
    def display_name(self) -> str:
        """The runtime's own spelling, for messages."""
        return {"torch": "PyTorch", "openvino": "OpenVINO", "onnxruntime": "ONNX Runtime"}[self.value]


class Precision(str, enum.Enum):
    """The arithmetic of the convolutions (skip connections stay in fp32)."""

    BF16 = "bf16"
    FP32 = "fp32"


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def simd_flags() -> list[str]:
    """The SIMD features that decide the speed of the networks, as reported by benchmarks."""
    return [flag for flag in SIMD_FLAGS if flag in cpu_flags()]


def _forced(variable: str, choices: type[E]) -> E | None:
    value = os.environ.get(variable, "").strip().lower()
    if not value:
        return None
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(choice.value for choice in choices)
        msg = f"{variable}={value!r} is not one of: {allowed}"
        raise InvalidOptionError(msg) from None


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic and ``JPEGPLUS_PRECISION`` does not force fp32.

    An ``ONEDNN_MAX_CPU_ISA`` cap below AVX512_CORE_BF16 (e.g. AVX2, to measure an older CPU) counts
    as no bf16: OpenVINO cannot build bf16 kernels under it.
    """
    forced = _forced(PRECISION_VARIABLE, Precision)
    if forced is not None:
        return forced is Precision.BF16
    cap = os.environ.get(ISA_CAP_VARIABLE, "").strip().upper()
    if cap and not cap.startswith(BF16_ISA_CAPS):
        return False
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


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


def channels_last(net: M) -> M:
    """``net`` with its 4-D weights in channels-last order, the layout of the images it runs on."""
    return net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's overloads omit it


def uses_bf16(device: torch.device) -> bool:
    """bf16 where the hardware has it: CUDA, or CPUs with bf16 units."""
    return device.type == "cuda" or cpu_has_bf16()


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast where the hardware has it; fp32 otherwise (training)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=uses_bf16(device))


def installed(runtime: Runtime) -> bool:
    """True when ``runtime``'s package can be imported."""
    return runtime is Runtime.TORCH or importlib.util.find_spec(runtime.value) is not None


def select_runtime(device: torch.device) -> Runtime:
    """``JPEGPLUS_RUNTIME`` when set, else OpenVINO for the CPU where installed, else PyTorch."""
    forced = _forced(RUNTIME_VARIABLE, Runtime)
    if forced is not None:
        if not installed(forced):
            name = forced.value
            msg = f"{RUNTIME_VARIABLE}={name}, but {name} is not installed (pip install 'jpegplus[{name}]')"
            raise InvalidOptionError(msg)
        if forced is not Runtime.TORCH and device.type != "cpu":
            msg = f"{RUNTIME_VARIABLE}={forced.value} runs on the CPU only, not on {device}"
            raise InvalidOptionError(msg)
        return forced
    return Runtime.OPENVINO if device.type == "cpu" and installed(Runtime.OPENVINO) else Runtime.TORCH


def runnable(net: torch.nn.Module, device: torch.device) -> Runnable:
    """An inference form of ``net`` on ``device``, in the selected runtime and precision (cached per process).

    ``net`` itself is left as it is (training goes on using it).
    """
    precision = Precision.BF16 if uses_bf16(device) else Precision.FP32
    return _runnable(net, device, select_runtime(device), precision)


@functools.cache
def _runnable(net: torch.nn.Module, device: torch.device, runtime: Runtime, precision: Precision) -> Runnable:
    if runtime is not Runtime.TORCH:
        try:
            return _compiled(net, runtime, precision)
        except RuntimeError as error:  # conversion and compile errors (an unsupported CPU, a bad build)
            if _forced(RUNTIME_VARIABLE, Runtime) is runtime:
                msg = f"{runtime.display_name} cannot run {type(net).__name__}: {str(error).splitlines()[0]}"
                raise RuntimeFailure(msg) from None
            log.warning("%s cannot run %s (%s); running it in PyTorch", runtime.display_name, type(net).__name__, error)
    from jpegplus.backends import torch_net

    return torch_net.prepare(net, device, precision)


def _compiled(net: torch.nn.Module, runtime: Runtime, precision: Precision) -> Runnable:
    """``net`` converted for OpenVINO or ONNX Runtime (imported only here, when chosen)."""
    if runtime is Runtime.OPENVINO:
        from jpegplus.backends import openvino_net

        return openvino_net.compile_net(net, precision)
    from jpegplus.backends import onnxruntime_net

    return onnxruntime_net.compile_net(net)
