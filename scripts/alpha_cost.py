"""What transparency costs per codec: jpegplus files of a photo with and without an alpha plane.

Two 512×384 masks over scikit-image's astronaut (a soft disc beside a 60-pixel gradient, and
antialiased shapes); compress in full mode, then decompress. Prints a Markdown table:
bytes without and with alpha, and the largest and mean alpha error after decompress.

    python3 scripts/alpha_cost.py
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from skimage import data

import jpegplus

QUALITIES = (10, 30, 60, 90)


def masks(height: int, width: int) -> dict[str, np.ndarray]:
    """The two test alpha planes."""
    rows, cols = np.mgrid[:height, :width]
    disc = np.clip((150 - np.hypot(rows - height / 2, cols - width / 2)) * 4 + 128, 0, 255).astype(np.uint8)
    disc[:, :60] = np.linspace(0, 255, 60).astype(np.uint8)[None]
    large = Image.new("L", (width * 4, height * 4))
    draw = ImageDraw.Draw(large)
    for index in range(12):
        top = (index % 3) * 400
        draw.ellipse((index * 160, top, index * 160 + 300, top + 500), fill=255)
    draw.rectangle((100, 1200, 1900, 1350), fill=255)
    shapes = np.asarray(large.resize((width, height), Image.Resampling.LANCZOS))
    return {"disc": disc, "shapes": shapes}


def main() -> None:
    photo = np.ascontiguousarray(data.astronaut()[:384, :512])
    print("| codec | mask | quality | bytes opaque | bytes with alpha | alpha error max / mean |")
    print("|---|---|---|---|---|---|")
    for codec in ("webp", "avif", "jpeg2000"):
        for name, alpha in masks(*photo.shape[:2]).items():
            for quality in QUALITIES:
                opaque = jpegplus.compress(photo, codec=codec, quality=quality, mode="full")
                with_alpha = jpegplus.compress(np.dstack([photo, alpha]), codec=codec, quality=quality, mode="full")
                error = np.abs(jpegplus.decompress(with_alpha)[:, :, 3].astype(int) - alpha)
                print(
                    f"| {codec} | {name} | {quality} | {len(opaque)} | {len(with_alpha)} "
                    f"(+{100 * (len(with_alpha) / len(opaque) - 1):.0f}%) | {error.max()} / {error.mean():.2f} |"
                )


if __name__ == "__main__":
    main()
