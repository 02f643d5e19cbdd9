"""``--target-size`` where compress's trellis stops: what a budget between the last trellis file (quality 25)
and the next, rounded one (quality 26, about a fifth larger) gets, against quality 25's file.

Run from the repository on held-out photos (never the evaluation sets):
``python3 benchmarks/trellis_limit_budget.py runs/heldout > benchmarks/trellis-limit-budget.md`` (``runs/heldout``:
see ``weights/jpeg-artifacts.md``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

import jpegplus
from jpegplus.metrics import ms_ssim, psnr

BUDGETS = {"halfway": 0.5, "just under 26": 1.0}  # where between the two files' sizes the budget falls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", type=Path)
    photos = [np.asarray(Image.open(path).convert("RGB")) for path in sorted(parser.parse_args().photos.iterdir())]
    print("| budget | PSNR gain (worst photo) | MS-SSIM gain | budget spent: target-size / quality 25 |")
    print("|---|---|---|---|")
    for name, share in BUDGETS.items():
        rows = []
        for photo in photos:
            last, rounded = (jpegplus.compress(photo, quality=q, mode="full") for q in (25, 26))
            budget = min(int(len(last) + share * (len(rounded) - len(last))), len(rounded) - 1)
            fitted = jpegplus.compress(photo, target_size=budget, mode="full")
            ours, theirs = jpegplus.decompress(fitted), jpegplus.decompress(last)
            rows.append(
                (psnr(photo, ours) - psnr(photo, theirs), ms_ssim(photo, ours) - ms_ssim(photo, theirs))
                + (len(fitted) / budget, len(last) / budget)
            )
        mean, worst = np.mean(rows, axis=0), np.min(rows, axis=0)
        print(f"| {name} | {mean[0]:+.2f} dB ({worst[0]:+.2f}) | {mean[1]:+.4f} | {mean[2]:.0%} / {mean[3]:.0%} |")


if __name__ == "__main__":
    main()
