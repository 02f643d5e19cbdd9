"""Training of the jpegplus models (run from ``jpegplus train``; never from tests or CI)."""

from __future__ import annotations

import logging
from pathlib import Path

from jpegplus.training.config import TrainConfig


def start(run: Path, config: TrainConfig, threads: int, *, from_weights: bool = False) -> None:
    """Log to ``run/train.log`` and run (or resume) ``config``'s plan with ``threads`` CPU threads."""
    import torch

    from jpegplus.training.loop import Trainer

    torch.set_num_threads(threads)
    run.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(run / "train.log"), logging.StreamHandler()],
    )
    Trainer(config, run).run(from_weights=from_weights)
