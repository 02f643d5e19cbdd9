from __future__ import annotations

import pytest
import torch

from conftest import randomised
from jpegplus.backends import torch_net
from jpegplus.inference import pad_even, run_tiled
from jpegplus.models import ComCNN, RecCNN, RestoreNet
from jpegplus.runtime import Precision, runnable


@torch.no_grad()
def test_tiles_stitch_like_one_pass() -> None:
    net = randomised(RecCNN(channels=8, pairs=2))
    image = torch.rand(1, 3, 70, 94)
    condition = torch.tensor([[0.5, 0.6]])
    whole = net(image, condition)
    tiled = run_tiled(lambda t: net(t, condition), image, scale=1.0, tile=32, overlap=16)
    assert torch.allclose(whole, tiled, atol=1e-5)


@torch.no_grad()
def test_downscaling_tiles_stitch_like_one_pass() -> None:
    net = randomised(ComCNN(channels=8))
    image = torch.rand(1, 3, 66, 90)
    tiled = run_tiled(net, image, scale=0.5, tile=32, overlap=8)
    assert tiled.shape == (1, 3, 33, 45)
    assert torch.allclose(net(image), tiled, atol=1e-5)


def test_pad_even_replicates_edge() -> None:
    image = torch.arange(15.0).reshape(1, 1, 3, 5)
    padded = pad_even(image)
    assert padded.shape == (1, 1, 4, 6)
    assert torch.equal(padded[0, 0, 3, :5], image[0, 0, 2]) and padded[0, 0, 0, 5] == image[0, 0, 0, 4]


def test_untrained_comcnn_is_area_downsample() -> None:
    image = torch.rand(1, 3, 8, 8)
    assert torch.allclose(ComCNN()(image), torch.nn.functional.avg_pool2d(image, 2))


def test_reccnn_has_twenty_weight_layers() -> None:
    convs = [m for m in RecCNN().modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 20 and all(c.kernel_size == (3, 3) for c in convs)


@torch.no_grad()
def test_untrained_restorenet_is_identity_on_any_size() -> None:
    image = torch.rand(1, 3, 37, 53)  # not a multiple of the 32-pixel grid: padded inside, cropped back
    assert torch.equal(RestoreNet()(image, torch.tensor([[0.3, 0.4]])), image)


@torch.no_grad()
def test_restorenet_output_depends_on_condition() -> None:
    net = randomised(RestoreNet(widths=(8, 16), pairs=1))
    image = torch.rand(1, 3, 32, 32)
    low, high = (net(image, torch.tensor([[c, c]])) for c in (0.1, 0.9))
    assert low.shape == image.shape and (low - high).abs().max() > 1e-3


@torch.no_grad()
def test_bf16_inference_copy_stays_close_and_keeps_fp32_skip() -> None:
    net = randomised(RecCNN(channels=8, pairs=1))
    for parameter in net.parameters():
        parameter.mul_(0.1)
    image, condition = torch.rand(1, 3, 16, 16), torch.tensor([[0.5, 0.5]])
    copy = torch_net.prepare(net, torch.device("cpu"), Precision.BF16)
    out = copy(image.contiguous(memory_format=torch.channels_last), condition)
    assert out.dtype == torch.float32 and copy is not net
    assert next(net.parameters()).dtype == torch.float32  # the cached model itself is untouched
    assert (out - net(image, condition)).abs().max() < 2e-2


@torch.no_grad()
def test_frozen_net_matches_eager_at_sizes_it_was_not_traced_at() -> None:
    for net in (randomised(RestoreNet(widths=(8, 16), pairs=1)), randomised(RecCNN(channels=8, pairs=1))):
        for height, width in ((37, 53), (96, 64)):
            image, condition = torch.rand(2, 3, height, width), torch.tensor([[0.2, 0.3], [0.7, 0.8]])
            eager = net(image, condition)
            net.freeze()
            assert torch.allclose(net(image, condition), eager, atol=1e-6)
            net.frozen = None


def test_torch_inference_copy_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JPEGPLUS_RUNTIME", "torch")
    net = RestoreNet(widths=(8, 16), pairs=1).eval()
    assert isinstance(runnable(net, torch.device("cpu")).frozen, torch.jit.ScriptModule) and net.frozen is None


@torch.no_grad()
@pytest.mark.parametrize("offset", [(0, 0), (3, 5)])
def test_banded_uint8_restore_matches_the_tensor_pass(offset: tuple[int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """restore_pixels (bands of tiles, uint8 in and out, optionally in place) is the whole-tensor pass, rounded."""
    import numpy as np

    from jpegplus.inference import restore_pixels
    from jpegplus.io import to_image, to_tensor

    net = randomised(RecCNN(channels=8, pairs=2))
    pixels = np.random.default_rng(1).integers(0, 256, (75, 61, 3), dtype=np.uint8)
    device = torch.device("cpu")
    monkeypatch.setattr("jpegplus.inference.runnable", lambda model, _: model)
    monkeypatch.setattr("jpegplus.inference.BAND_TILE", 16)
    monkeypatch.setattr("jpegplus.inference.OVERLAP", 8)  # bands of 16 rows, 8 rows of context kept in place
    pad_top, pad_left = (-offset[0]) % 8, (-offset[1]) % 8
    padded = torch.nn.functional.pad(to_tensor(pixels), (pad_left, 0, pad_top, 0), mode="replicate")
    tensor_pass = run_tiled(
        lambda t: net(t, torch.tensor([[0.5, 0.6]])), pad_even(padded), scale=1.0, tile=16, overlap=8
    )
    expected = to_image(tensor_pass[:, :, pad_top : pad_top + 75, pad_left : pad_left + 61].clamp(0, 1), gray=False)
    copy = pixels.copy()
    assert np.array_equal(restore_pixels(net, pixels, (0.5, 0.6), device, offset=offset), expected)
    assert np.array_equal(pixels, copy)
    assert np.array_equal(restore_pixels(net, copy, (0.5, 0.6), device, offset=offset, in_place=True), expected)
    assert np.array_equal(copy, expected)
