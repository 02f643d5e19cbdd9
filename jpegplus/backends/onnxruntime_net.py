"""The ONNX Runtime inference form: a network exported once to ONNX, cached, one session per process.

The graph is exported from the loaded weights by PyTorch's ONNX exporter (opset 17, free batch,
height and width) and kept in the graph cache keyed by the weights' digest and the torch version
that wrote it. ONNX Runtime's CPU kernels (MLAS) compute in fp32: a bf16 request runs in fp32 here.
It has no instruction-set cap like oneDNN's ``ONEDNN_MAX_CPU_ISA``: it always uses the CPU's widest
SIMD, so an AVX2-only CPU cannot be imitated with it.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from jpegplus.backends.exportable import exportable, graph_key
from jpegplus.backends.graphcache import cache_dir, cached_entry
from jpegplus.models.folded import FoldedResidualNet, on_grid
from jpegplus.runtime import Runnable

log = logging.getLogger(__name__)

GRAPH_FILE = "model.onnx"
GRAPH_VERSION = 1  # bump when what is exported changes, so old cache entries are not read
OPSET = 17


def compile_net(net: torch.nn.Module) -> Runnable:
    """``net``'s inference form in ONNX Runtime: called with the same tensors as ``net``, returns a float32 tensor."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(graph(net), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own error classes derive from Exception only
        raise RuntimeError(str(error)) from error
    runner = SessionRunner(session)
    return functools.partial(on_grid, runner, net.grid) if isinstance(net, FoldedResidualNet) else runner


def graph(net: torch.nn.Module) -> bytes:
    """The network's ONNX graph, from the graph cache or exported (and cached) now."""
    version = torch.__version__.replace("+", "_")
    folder = cache_dir() / f"onnx-torch{version}-g{GRAPH_VERSION}" / graph_key(net)
    entry = cached_entry(folder, lambda staging: export(net, staging / GRAPH_FILE))
    if entry is not None:
        return (entry / GRAPH_FILE).read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / GRAPH_FILE
        export(net, path)
        return path.read_bytes()


@torch.no_grad()
def export(net: torch.nn.Module, path: Path) -> None:
    """Write ``net`` (fp32) to ``path`` as an ONNX graph with free batch, height and width."""
    module, example = exportable(net)
    names = [f"input{index}" for index in range(len(example))]
    free = {
        name: {0: "batch", 2: "height", 3: "width"} if tensor.dim() == 4 else {0: "batch"}
        for name, tensor in zip(names, example, strict=True)
    }
    log.info("exporting %s to ONNX", type(net).__name__)
    with warnings.catch_warnings():  # the TorchScript-based exporter is deprecated in favour of dynamo's
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, example, path, input_names=names, output_names=["output"],
            dynamic_axes={**free, "output": {0: "batch", 2: "height", 3: "width"}}, opset_version=OPSET, dynamo=False,
        )  # fmt: skip


class SessionRunner:
    """Calls an ONNX Runtime session with torch tensors (NCHW float32 in, NCHW float32 out)."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self.session = session
        self.names = [port.name for port in session.get_inputs()]

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        feeds = {
            name: np.ascontiguousarray(tensor.detach().cpu().float().numpy())
            for name, tensor in zip(self.names, tensors, strict=True)
        }
        return torch.from_numpy(self.session.run(None, feeds)[0])
