"""Geometric self-ensemble: the turns, the JPEG grid they keep, and what passes buy in enhance and decompress."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import jpegplus
from jpegplus.cli import app
from jpegplus.ensemble import GRID, TURNS, ensembled
from jpegplus.errors import InvalidOptionError
from tests.conftest import jpeg_bytes, psnr

runner = CliRunner()


def test_every_turn_is_undone_by_its_inverse() -> None:
    image = torch.rand(1, 3, 21, 34)
    for turn, back in TURNS:
        assert torch.equal(back(turn(image)), image)
    assert len({tuple(turn(image[..., :8, :8]).flatten().tolist()) for turn, _ in TURNS}) == 8


def test_passes_average_what_the_network_does_not_share_between_turns() -> None:
    """A "network" adding a left-to-right ramp: a half turn reverses it, so two passes average it away."""
    tile = torch.zeros(1, 1, 32, 32)

    def ramp(image: torch.Tensor) -> torch.Tensor:
        return image + torch.arange(image.shape[-1], dtype=torch.float32)

    once, twice = ensembled(ramp, 1)(tile), ensembled(ramp, 2)(tile)
    assert once[0, 0, 0, 0] == 0 and once[0, 0, 0, 31] == 31
    assert torch.allclose(twice, torch.full_like(tile, 15.5))


def test_turned_tiles_are_whole_macroblocks_and_the_output_keeps_its_size() -> None:
    seen: list[tuple[int, int]] = []

    def upscale(image: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(image.shape[-2:]))
        return torch.nn.functional.interpolate(image, scale_factor=2, mode="nearest")

    tile = torch.rand(1, 3, 37, 50)
    out = ensembled(upscale, 8, scale=2.0)(tile)
    assert out.shape == (1, 3, 74, 100)
    assert torch.allclose(out, torch.nn.functional.interpolate(tile, scale_factor=2, mode="nearest"))
    assert len(seen) == 8 and all(h % GRID == 0 and w % GRID == 0 for h, w in seen)


def test_enhance_improves_with_passes(photo: np.ndarray) -> None:
    old = jpeg_bytes(photo, 15)
    scores = [psnr(jpegplus.enhance(old, passes=passes), photo) for passes in (1, 2, 8)]
    assert scores[0] < scores[1] < scores[2]
    assert scores[2] - scores[0] < 0.5  # the same network, averaged: a small step


@pytest.mark.parametrize("mode", ["full", "downsample"])
def test_decompress_improves_with_passes(photo: np.ndarray, mode: str) -> None:
    packed = jpegplus.compress(photo, quality=40, mode=mode)
    once, eight = (jpegplus.decompress(packed, passes=passes) for passes in (1, 8))
    assert once.shape == eight.shape == photo.shape
    assert psnr(eight, photo) > psnr(once, photo)


@pytest.mark.parametrize("passes", [0, 3, 16, 2.0, True, "2"])
def test_other_pass_counts_are_refused(photo: np.ndarray, passes: object) -> None:
    with pytest.raises(InvalidOptionError, match="passes must be one of 1, 2, 4, 8"):
        jpegplus.enhance(jpeg_bytes(photo, 30), passes=passes)  # type: ignore[arg-type]


def test_cli_passes(tmp_path: Path, photo: np.ndarray) -> None:
    source = tmp_path / "old.jpg"
    source.write_bytes(jpeg_bytes(photo, 15))
    refused = runner.invoke(app, ["enhance", str(source), "--passes", "3", "-o", str(tmp_path / "x.png")])
    assert refused.exit_code != 0 and "passes must be one of 1, 2, 4, 8" in refused.stderr
    assert "Traceback" not in refused.output and not (tmp_path / "x.png").exists()
    assert runner.invoke(app, ["enhance", str(source), "--passes", "4", "-o", str(tmp_path / "e.png")]).exit_code == 0
    written = np.asarray(Image.open(tmp_path / "e.png"))
    assert np.array_equal(written, jpegplus.enhance(source.read_bytes(), passes=4))
