"""Glue of ``jpegplus bench``: options → run → files, with the headline lines to print."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from jpegplus.bench import report
from jpegplus.bench.runner import BenchConfig, dataset_images, run


def run_bench(config: BenchConfig, out: Path, readme: Path | None = None) -> list[str]:
    """Run the benchmark, write its files into ``out`` and return a short summary.

    ``readme``: also splice the headline table into this Markdown file.
    """
    out.mkdir(parents=True, exist_ok=True)
    decodes: dict[str, dict[int, np.ndarray]] = {}
    results = run(config, decodes)
    first = dataset_images(config.dataset, 1)[0]
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
