"""``python -m jpegplus.training --run DIR --data DIR --plan artifacts:45,down-rec:20,...``"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch

from jpegplus.models import RECONSTRUCTORS
from jpegplus.training.loop import TrainConfig, Trainer, parse_plan


def main() -> None:
    """Parse the options and run (or resume) the training plan."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", type=Path, required=True, help="run folder: cached data, checkpoints, log")
    parser.add_argument("--data", required=True, help="folder of training PNGs")
    parser.add_argument("--plan", default="artifacts:45,down-rec:20,down-com:8,down-rec:15")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--from-weights", action="store_true", help="start a new run from the installed weights")
    parser.add_argument("--architecture", default="RecCNN", choices=sorted(RECONSTRUCTORS), help="artifact model")
    args = parser.parse_args()
    start(
        args.run,
        Path(args.data),
        args.plan,
        args.threads,
        from_weights=args.from_weights,
        architecture=args.architecture,
    )


def start(
    run: Path, data: Path, plan: str, threads: int, *, from_weights: bool = False, architecture: str = "RecCNN"
) -> None:
    """Log to ``run/train.log`` and run (or resume) ``plan`` with ``architecture`` as the artifact model."""
    if architecture not in RECONSTRUCTORS:
        msg = f"unknown architecture {architecture!r}; known: {', '.join(sorted(RECONSTRUCTORS))}"
        raise ValueError(msg)
    stages = parse_plan(plan)
    torch.set_num_threads(threads)
    run.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(message)s",
        handlers=[logging.FileHandler(run / "train.log"), logging.StreamHandler()],
    )
    config = TrainConfig(data_dir=str(data), plan=stages, artifact_architecture=architecture)
    Trainer(config, run).run(from_weights=from_weights)


if __name__ == "__main__":
    main()
