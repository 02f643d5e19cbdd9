"""Glue of ``jpegplus bench``: options → run → files, with the headline lines to print."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jpegplus.bench import report
from jpegplus.bench.runner import BenchConfig, bench_image, run

SHOWCASE = Path(__file__).resolve().parents[2] / "examples" / "astronaut.png"


def showcase(config: BenchConfig, out: Path) -> list[tuple[str, str]]:
    """Every curve of ``config`` on the bundled example image, as the report's side-by-side crops (none
    where the example is not installed): a committed report then shows only files that are committed."""
    if not SHOWCASE.is_file():
        return []
    decodes: dict[str, dict[int, np.ndarray]] = {}
    records = bench_image(SHOWCASE, config, decodes)
    return report.crops(SHOWCASE, decodes, records, out)


def run_bench(config: BenchConfig, out: Path, readme: Path | None = None) -> list[str]:
    """Run the benchmark, write its files into ``out`` and return a short summary.

    ``readme``: also splice the headline table into this Markdown file.
    """
    out.mkdir(parents=True, exist_ok=True)
    results = run(config)
    plots = [report.plot(results["curves"], metric, out) for metric in ("psnr", "ms_ssim")]
    shown = showcase(config, out)
    report.write_results(results, out)
    page = report.write_html(results, plots, shown, out)
    (out / "summary.md").write_text(report.markdown_summary(results, plots[0].name) + "\n")  # beside its plot
    if readme is not None:
        report.splice_readme(readme, report.markdown_summary(results, str(plots[0])))
    lines = [
        f"{curve}: " + ", ".join(f"{k} {v:+.1f}%" for k, v in row.items()) for curve, row in results["bd_rate"].items()
    ]
    return [*lines, f"report: {page}"]
