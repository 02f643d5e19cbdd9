"""Glue of ``jpegplus bench``: options → run → files, with the headline lines to print."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from jpegplus.bench import report
from jpegplus.bench.peers import Peer
from jpegplus.bench.runner import BenchConfig, dataset_images, run
from jpegplus.codecs import get_codec
from jpegplus.errors import InvalidInputError, InvalidOptionError
from jpegplus.pipeline import parse_mode


def _split(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def run_bench(
    dataset: Path,
    out: Path,
    codecs: str,
    modes: str,
    enhance: bool,
    qualities: str,
    limit: int | None,
    readme: Path | None = None,
    *,
    peers: tuple[Peer, ...] = (),
    plain_view: bool = False,
) -> list[str]:
    """Run the benchmark, write its files into ``out`` and return a short summary.

    ``peers``: the peer JPEG encoders run beside plain JPEG; ``plain_view`` adds, for each jpegplus
    mode, the curve of its files opened by a plain decoder.
    """
    if not dataset.is_dir() or not dataset_images(dataset, 1):
        msg = f"{dataset} is not a folder of images"
        raise InvalidInputError(msg)
    codec_names = tuple(get_codec(c).name for c in _split(codecs))
    mode_names = tuple(parse_mode(m).value for m in _split(modes))
    try:
        grid = tuple(sorted(int(q) for q in _split(qualities)))
    except ValueError:
        msg = f"qualities must be integers, got {qualities!r}"
        raise InvalidOptionError(msg) from None
    if peers and "jpeg" not in codec_names:
        msg = "--peers are JPEG encoders: add jpeg to --codecs"
        raise InvalidOptionError(msg)
    config = BenchConfig(dataset, codec_names, mode_names, enhance, grid, limit, peers, plain_view)
    out.mkdir(parents=True, exist_ok=True)
    decodes: dict[str, dict[int, np.ndarray]] = {}
    results = run(config, decodes)
    first = dataset_images(dataset, 1)[0]
    picture = Image.open(first)
    reference = np.asarray(picture.convert("L" if picture.mode == "L" else "RGB"))
    plots = [report.plot(results["curves"], metric, out) for metric in ("psnr", "ms_ssim")]
    shown = report.crops(reference, decodes, results["records"], out)
    report.write_results(results, out)
    page = report.write_html(results, plots, shown, out)
    (out / "summary.md").write_text(report.markdown_summary(results, plots[0].name) + "\n")  # beside its plot
    if readme is not None:
        report.splice_readme(readme, report.markdown_summary(results, str(plots[0])))
    lines = [
        f"{curve}: " + ", ".join(f"{k} {v:+.1f}%" for k, v in row.items()) for curve, row in results["bd_rate"].items()
    ]
    return [*lines, f"report: {page}"]
