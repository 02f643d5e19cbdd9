"""Int8 against fp32/bf16 for the installed JPEG artifact network: ms per 768×512 image and PSNR change.

Int8 graphs need calibration images, which users do not have, so jpegplus would have to ship them;
this script measures whether they would pay. It quantizes the network statically with NNCF
(OpenVINO) and with ONNX Runtime's ``quantize_static`` (QDQ, per-channel weights), both calibrated
on crops of the training photos (never the held-out ones) JPEG-compressed as in training, the first
and last convolution kept in float. Each form is timed on a 768×512 input (network only, 2 threads)
and run on the 10 held-out photos at libjpeg qualities 10–90: the PSNR change against the fp32 network.

Run from the repository: ``python3 benchmarks/speed/int8.py ../shared/datasets/train --out
benchmarks/speed/int8.md``, then again under ``ONEDNN_MAX_CPU_ISA=AVX2`` with ``--append`` (the cap
binds OpenVINO; ONNX Runtime has none). Pause other work first.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from jpegplus.backends.exportable import exportable
from jpegplus.backends.onnxruntime_net import export
from jpegplus.modes import Mode
from jpegplus.runtime import simd_flags
from jpegplus.training.data import decode_jpeg, random_jpeg, split_validation, training_images
from jpegplus.weights import load_model, select

QUALITIES = (10, 20, 30, 40, 60, 75, 90)
CROP = 256
Forward = Callable[[np.ndarray, np.ndarray], np.ndarray]  # NCHW image, (N, 2) condition → NCHW image


def calibration_items(photos: list[Path], count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` training crops, each JPEG-compressed at a random setting: (NCHW image, condition)."""
    rng = np.random.default_rng(1)
    items = []
    for _ in range(count):
        with Image.open(photos[rng.integers(len(photos))]) as picture:
            photo = np.asarray(picture.convert("RGB"))
        top, left = rng.integers(0, photo.shape[0] - CROP), rng.integers(0, photo.shape[1] - CROP)
        data, _ = random_jpeg(np.ascontiguousarray(photo[top : top + CROP, left : left + CROP]), rng, (5, 95))
        decoded, condition = decode_jpeg(data)
        items.append((decoded.transpose(2, 0, 1)[None].astype(np.float32) / 255, np.array([condition], np.float32)))
    return items


def convolution_ends(names: list[str]) -> list[str]:
    """The first and last convolution of a graph's ordered convolution names."""
    return [names[0], names[-1]]


def openvino_forms(net: torch.nn.Module, items: list, bf16: bool) -> dict[str, Forward]:
    """OpenVINO fp32, bf16 (where the CPU has it) and NNCF int8."""
    import nncf
    import openvino as ov

    from jpegplus.backends.openvino_net import convert

    core, model = ov.Core(), convert(net)
    threads = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": 2}
    convolutions = [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() == "Convolution"]
    quantized = nncf.quantize(
        model,
        nncf.Dataset(items),
        subset_size=len(items),
        preset=nncf.QuantizationPreset.MIXED,
        ignored_scope=nncf.IgnoredScope(names=convolution_ends(convolutions)),
    )
    forms = {"openvino fp32": (model, "f32"), "openvino int8 (NNCF)": (quantized, "f32")}
    if bf16:
        forms["openvino bf16"] = (model, "bf16")
    compiled = {
        name: core.compile_model(graph, "CPU", {**threads, "INFERENCE_PRECISION_HINT": hint})
        for name, (graph, hint) in forms.items()
    }
    return {name: (lambda x, c, m=m: m([x, c])[0]) for name, m in compiled.items()}


def onnxruntime_forms(net: torch.nn.Module, items: list, folder: Path) -> dict[str, Forward]:
    """ONNX Runtime fp32 and static int8 (QDQ, per-channel)."""
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    fp32_path, int8_path = folder / "fp32.onnx", folder / "int8.onnx"
    export(net, fp32_path)
    convolutions = [node.name for node in onnx.load(str(fp32_path)).graph.node if node.op_type == "Conv"]
    names = [port.name for port in ort.InferenceSession(str(fp32_path)).get_inputs()]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.rest = iter(items)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self.rest, None)
            return None if item is None else dict(zip(names, item, strict=True))

    quantize_static(
        str(fp32_path),
        str(int8_path),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=convolution_ends(convolutions),
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    sessions = {
        "onnxruntime fp32": ort.InferenceSession(str(fp32_path), options, providers=["CPUExecutionProvider"]),
        "onnxruntime int8 (static)": ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"]),
    }
    return {
        name: (lambda x, c, s=session: s.run(None, dict(zip(names, (x, c), strict=True)))[0])
        for name, session in sessions.items()
    }


def median_ms(forward: Forward, repeats: int = 9) -> float:
    """Median milliseconds of one 768×512 pass (after a warm-up pass)."""
    image, condition = np.random.default_rng(0).random((1, 3, 512, 768), np.float32), np.array([[0.5, 0.5]], np.float32)
    forward(image, condition)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward(image, condition)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def held_out_psnr(forward: Forward, photos: list[np.ndarray], grid: int) -> dict[int, float]:
    """Mean RGB PSNR of ``forward``'s restorations of the photos JPEG-compressed at each quality."""
    result = {}
    for quality in QUALITIES:
        values = []
        for photo in photos:
            cropped = photo[: photo.shape[0] // grid * grid, : photo.shape[1] // grid * grid]
            buffer = io.BytesIO()
            Image.fromarray(cropped).save(buffer, "JPEG", quality=quality)
            decoded, condition = decode_jpeg(buffer.getvalue())
            out = forward(decoded.transpose(2, 0, 1)[None].astype(np.float32) / 255, np.array([condition], np.float32))
            restored = np.clip(np.round(out[0].transpose(1, 2, 0) * 255), 0, 255)
            values.append(10 * np.log10(255**2 / np.mean((restored - cropped.astype(np.float64)) ** 2)))
        result[quality] = float(np.mean(values))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path, help="the training photos (calibration; their held-out part evaluates)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--append", action="store_true")
    parser.add_argument("--crops", type=int, default=100)
    arguments = parser.parse_args()
    torch.set_num_threads(2)
    train, held = split_validation(training_images(arguments.photos), 10)
    photos = [np.asarray(Image.open(path).convert("RGB")) for path in held]
    spec = select("jpeg", Mode.FULL)
    net = load_model(spec.name).reconstruct.float().eval()
    items = calibration_items(train, arguments.crops)
    bf16 = any(flag in simd_flags() for flag in ("avx512_bf16", "amx_bf16"))
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "")
    with tempfile.TemporaryDirectory() as folder:
        forms = {**openvino_forms(net, items, bf16 and not isa), **onnxruntime_forms(net, items, Path(folder))}
        module, _ = exportable(net)
        reference = held_out_psnr(lambda x, c: module(torch.from_numpy(x), torch.from_numpy(c)).numpy(), photos, 32)
        rows = []
        for name, forward in forms.items():
            change = held_out_psnr(forward, photos, 32)
            drops = " | ".join(f"{change[q] - reference[q]:+.3f}" for q in QUALITIES)
            rows.append(f"| {name} | {median_ms(forward):.0f} | {drops} |")
    title = f"## {spec.name} ({spec.architecture.reconstructor}), {isa or 'native ISA'}: {' '.join(simd_flags())}"
    table = [
        title,
        "",
        "| form | ms per 768×512 | " + " | ".join(f"q{q} dB" for q in QUALITIES) + " |",
        "|---" * (len(QUALITIES) + 2) + "|",
        *rows,
    ]
    earlier = arguments.out.read_text() + "\n" if arguments.append and arguments.out.exists() else ""
    header = "" if earlier else "# Int8 against float (`int8.py`): network only; PSNR change against fp32\n\n"
    arguments.out.write_text(header + earlier + "\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
