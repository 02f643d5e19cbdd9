"""Speed of candidate reconstruction networks for distillation, untrained: GMAC and ms per 768×512 image.

Run from the repository: ``python3 benchmarks/speed/candidates.py --out benchmarks/speed/candidates.md``
(the CPU's own ISA, bf16 where it has it), and again with ``ONEDNN_MAX_CPU_ISA=AVX2`` for an AVX2-only
CPU (``--append``). Pause other work first: CPU ms (all threads) is the steadier figure when it cannot be.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from jpegplus.bench.speed import network_gmac
from jpegplus.models import RecCNN, RestoreNet
from jpegplus.runtime import Precision, cpu_has_bf16, runnable, select_runtime

CANDIDATES = {
    "LeanRestoreNet 32-64-128-256 ×2 (shipped)": lambda: RestoreNet(bottleneck_pairs=0),
    "RestoreNet 32-64-128-256 ×2": lambda: RestoreNet(),
    "Lean pairs 2-2-0": lambda: RestoreNet(pairs=(2, 2, 0), bottleneck_pairs=0),
    "Lean pairs 2-1-0 / decoder 2-2-0": lambda: RestoreNet(
        pairs=(2, 1, 0), bottleneck_pairs=0, decoder_pairs=(2, 2, 0)
    ),
    "Lean pairs 2-1-0": lambda: RestoreNet(pairs=(2, 1, 0), bottleneck_pairs=0),
    "Lean 24-64-128-256 ×2": lambda: RestoreNet(widths=(24, 64, 128, 256), bottleneck_pairs=0),
    "Lean 24-48-96-192 ×2": lambda: RestoreNet(widths=(24, 48, 96, 192), bottleneck_pairs=0),
    "Lean 32-64-128-256 ×1": lambda: RestoreNet(pairs=1, bottleneck_pairs=0),
    "Lean 16-32-64-128 ×2": lambda: RestoreNet(widths=(16, 32, 64, 128), bottleneck_pairs=0),
    "RecCNN 64 ×9": lambda: RecCNN(),
}


def measure(repeats: int) -> list[str]:
    """One markdown row per candidate: GMAC, parameters, median wall and CPU ms of its inference form."""
    image = torch.rand(1, 3, 512, 768).contiguous(memory_format=torch.channels_last)
    condition = torch.tensor([[0.5, 0.5]])
    rows = []
    for name, make in CANDIDATES.items():
        torch.manual_seed(0)
        net = make().eval()
        for parameter in net.parameters():
            torch.nn.init.normal_(parameter, std=0.02)
        run = runnable(net, torch.device("cpu"))
        with torch.inference_mode():
            run(image, condition)
            wall, cpu = [], []
            for _ in range(repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                run(image, condition)
                wall.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
        parameters = sum(p.numel() for p in net.parameters()) / 1e6
        gmac, load = network_gmac(net, image, condition), os.getloadavg()[0]
        timing = f"{statistics.median(wall):.0f} | {min(wall):.0f} | {statistics.median(cpu):.0f}"
        rows.append(f"| {name} | {gmac:.1f} | {parameters:.2f} | {timing} | {load:.1f} |")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--append", action="store_true", help="add a table below the existing ones")
    parser.add_argument("--repeats", type=int, default=9)
    arguments = parser.parse_args()
    precision = Precision.BF16 if cpu_has_bf16() else Precision.FP32
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "native ISA")
    runtime = select_runtime(torch.device("cpu")).value
    title = f"## {runtime} {precision.value}, {isa}, {torch.get_num_threads()} threads"
    table = [
        title,
        "",
        "| network | GMAC | M params | median ms | min ms | CPU ms | load |",
        "|---|---|---|---|---|---|---|",
        *measure(arguments.repeats),
    ]
    earlier = arguments.out.read_text() + "\n" if arguments.append and arguments.out.exists() else ""
    header = "" if earlier else "# Candidate networks for distillation (untrained, `candidates.py`)\n\n"
    arguments.out.write_text(header + earlier + "\n".join(table) + "\n")
    print("\n".join(table))
