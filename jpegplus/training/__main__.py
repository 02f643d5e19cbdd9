"""``python -m jpegplus.training --run DIR --data DIR --plan artifacts:45,...``: the same as ``jpegplus train``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import torch

from jpegplus.codecs import list_codecs
from jpegplus.models import RECONSTRUCTORS
from jpegplus.training.loop import LOSSES, TrainConfig, Trainer


def start(run: Path, config: TrainConfig, threads: int, *, from_weights: bool = False) -> None:
    """Log to ``run/train.log`` and run (or resume) ``config``'s plan."""
    for architecture in (config.artifact_architecture, config.down_architecture):
        if architecture not in RECONSTRUCTORS:
            msg = f"unknown architecture {architecture!r}; known: {', '.join(sorted(RECONSTRUCTORS))}"
            raise ValueError(msg)
    if config.codec not in list_codecs():
        msg = f"unknown codec {config.codec!r}; known: {', '.join(list_codecs())}"
        raise ValueError(msg)
    if config.loss not in LOSSES:
        msg = f"unknown loss {config.loss!r}; known: {', '.join(LOSSES)}"
        raise ValueError(msg)
    torch.set_num_threads(threads)
    run.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(run / "train.log"), logging.StreamHandler()],
    )
    Trainer(config, run).run(from_weights=from_weights)


if __name__ == "__main__":
    from jpegplus.cli import app

    app(["train", *sys.argv[1:]], prog_name="python -m jpegplus.training")
