"""The OpenVINO inference form: a network converted once to an OpenVINO graph, cached, compiled per process.

The graph is built from the loaded weights (not shipped): ``openvino.convert_model`` traces the
network (:func:`jpegplus.backends.exportable.exportable`) in ~1.3 s, then the graph is kept in the
graph cache keyed by the weights' digest and the OpenVINO version, and later processes read it in a
few milliseconds.
"""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from pathlib import Path

import openvino as ov
import torch

from jpegplus.backends.exportable import exportable, graph_key
from jpegplus.backends.graphcache import cache_dir, cached_entry
from jpegplus.models.folded import FoldedResidualNet, on_grid
from jpegplus.runtime import Precision, Runnable

log = logging.getLogger(__name__)

GRAPH_FILE = "model.xml"
GRAPH_VERSION = 1  # bump when what is exported changes, so old cache entries are not read


@functools.cache
def core() -> ov.Core:
    """The process's OpenVINO core."""
    return ov.Core()


def compile_config(precision: Precision) -> dict[str, object]:
    """CPU plugin settings: latency (one request on every core) in ``precision``, torch's thread count."""
    return {
        "INFERENCE_PRECISION_HINT": "bf16" if precision is Precision.BF16 else "f32",
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": torch.get_num_threads(),
    }


def compile_net(net: torch.nn.Module, precision: Precision) -> Runnable:
    """``net``'s inference form in OpenVINO: called with the same tensors as ``net``, returns a float32 tensor."""
    compiled = core().compile_model(channels_last(graph(net)), "CPU", compile_config(precision))
    runner = CompiledRunner(compiled)
    return functools.partial(on_grid, runner, net.grid) if isinstance(net, FoldedResidualNet) else runner


def graph(net: torch.nn.Module) -> ov.Model:
    """The network's OpenVINO graph, from the graph cache or converted (and cached) now."""
    version = ov.__version__.replace("/", "_")  # e.g. 2026.4.1-22982-e213a147257-releases/2026.4
    folder = cache_dir() / f"openvino-{version}-g{GRAPH_VERSION}" / graph_key(net)

    def build(staging: Path) -> None:
        ov.save_model(convert(net), staging / GRAPH_FILE, compress_to_fp16=False)

    entry = cached_entry(folder, build)
    if entry is None:
        return convert(net)
    return core().read_model(entry / GRAPH_FILE)


@torch.no_grad()
def convert(net: torch.nn.Module) -> ov.Model:
    """Trace ``net`` (fp32) into an OpenVINO graph with free batch, height and width."""
    module, example = exportable(net)
    shapes = [ov.PartialShape([-1, tensor.shape[1], *[-1] * (tensor.dim() - 2)]) for tensor in example]
    log.info("converting %s to an OpenVINO graph", type(net).__name__)
    with warnings.catch_warnings():  # convert_model traces with TorchScript, deprecated (FoldedResidualNet.freeze)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ov.convert_model(module, example_input=example, input=shapes)


def channels_last(model: ov.Model) -> ov.Model:
    """``model`` with its 4-D inputs and output in NHWC: the memory of PyTorch's channels-last tensors.

    Tiles arrive channels-last (PyTorch's convolutions want them so), and this takes them as they
    are instead of copying each into NCHW and the result back.
    """
    process = ov.preprocess.PrePostProcessor(model)
    for index, port in enumerate(model.inputs):
        if port.get_partial_shape().rank.get_length() == 4:
            process.input(index).tensor().set_layout(ov.Layout("NHWC"))
            process.input(index).model().set_layout(ov.Layout("NCHW"))
    process.output(0).model().set_layout(ov.Layout("NCHW"))
    process.output(0).tensor().set_layout(ov.Layout("NHWC"))
    return process.build()


class CompiledRunner:
    """Calls a compiled channels-last model with torch tensors, one infer request per thread."""

    def __init__(self, compiled: ov.CompiledModel) -> None:
        self.compiled = compiled
        self.requests = threading.local()

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        request = getattr(self.requests, "request", None)
        if request is None:
            request = self.requests.request = self.compiled.create_infer_request()
        inputs = [_nhwc(tensor.detach().cpu().float()).numpy() for tensor in tensors]
        request.infer(inputs)
        return torch.from_numpy(request.get_output_tensor(0).data.copy()).permute(0, 3, 1, 2)


def _nhwc(tensor: torch.Tensor) -> torch.Tensor:
    """A 4-D tensor's NHWC memory (free for a channels-last tensor); other tensors as they are."""
    return tensor.permute(0, 2, 3, 1).contiguous() if tensor.dim() == 4 else tensor.contiguous()
