from __future__ import annotations

import pytest
import torch

from jpegplus import runtime
from jpegplus.errors import InvalidOptionError
from jpegplus.runtime import Runtime, cpu_has_bf16, select_runtime

CPU = torch.device("cpu")


def test_forced_runtime_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPEGPLUS_RUNTIME", "Torch ")
    assert select_runtime(CPU) is Runtime.TORCH


def test_default_runtime_follows_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPEGPLUS_RUNTIME", raising=False)
    monkeypatch.setattr(runtime, "installed", lambda r: True)
    assert select_runtime(CPU) is Runtime.OPENVINO
    assert select_runtime(torch.device("cuda")) is Runtime.TORCH
    monkeypatch.setattr(runtime, "installed", lambda r: r is Runtime.TORCH)
    assert select_runtime(CPU) is Runtime.TORCH


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("tensorflow", "is not one of: torch, openvino, onnxruntime"),
        ("openvino", "openvino is not installed"),
        ("onnxruntime", "onnxruntime is not installed"),
    ],
)
def test_bad_runtime_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str, message: str) -> None:
    monkeypatch.setenv("JPEGPLUS_RUNTIME", value)
    monkeypatch.setattr(runtime, "installed", lambda r: r is Runtime.TORCH)
    with pytest.raises(InvalidOptionError, match=message):
        select_runtime(CPU)


def test_forced_openvino_refuses_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPEGPLUS_RUNTIME", "openvino")
    monkeypatch.setattr(runtime, "installed", lambda r: True)
    with pytest.raises(InvalidOptionError, match="CPU only"):
        select_runtime(torch.device("cuda"))


def test_precision_follows_cpu_flags_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPEGPLUS_PRECISION", raising=False)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert cpu_has_bf16()
    monkeypatch.setenv("JPEGPLUS_PRECISION", "fp32")
    assert not cpu_has_bf16()
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2"}))
    monkeypatch.setenv("JPEGPLUS_PRECISION", "bf16")
    assert cpu_has_bf16()
    monkeypatch.delenv("JPEGPLUS_PRECISION")
    assert not cpu_has_bf16()
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx2")
    assert not cpu_has_bf16()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert cpu_has_bf16()
    monkeypatch.setenv("JPEGPLUS_PRECISION", "int4")
    with pytest.raises(InvalidOptionError, match="bf16, fp32"):
        cpu_has_bf16()


def test_simd_flags_lists_known_features_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "cpu_flags", lambda: frozenset({"sse2", "avx2", "avx512f", "fma"}))
    assert runtime.simd_flags() == ["avx512f", "avx2", "fma"]


def test_runnable_is_cached_per_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    net = torch.nn.Conv2d(3, 3, 1).eval()
    monkeypatch.setenv("JPEGPLUS_RUNTIME", "torch")
    first = runtime.runnable(net, CPU)
    assert runtime.runnable(net, CPU) is first and first is not net


def test_openvino_failure_falls_back_to_pytorch_unless_forced(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("openvino", reason="the openvino extra is not installed")
    from jpegplus.backends import openvino_net

    def broken(net: torch.nn.Module, precision: runtime.Precision) -> None:
        msg = "Exception from src/plugins/intel_cpu: unsupported\nmore detail"
        raise RuntimeError(msg)

    monkeypatch.setattr(openvino_net, "compile_net", broken)
    net = torch.nn.Conv2d(3, 3, 1).eval()
    monkeypatch.delenv("JPEGPLUS_RUNTIME", raising=False)
    fallback = runtime._runnable(net, CPU, Runtime.OPENVINO, runtime.Precision.FP32)
    assert isinstance(fallback, torch.nn.Conv2d) and "running it in PyTorch" in caplog.text
    monkeypatch.setenv("JPEGPLUS_RUNTIME", "openvino")
    first_line_only = r"OpenVINO cannot run Conv2d: Exception from src/plugins/intel_cpu: unsupported$"
    with pytest.raises(runtime.RuntimeFailure, match=first_line_only):
        runtime._runnable(torch.nn.Conv2d(3, 3, 1), CPU, Runtime.OPENVINO, runtime.Precision.FP32)
