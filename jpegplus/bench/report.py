"""The benchmark's outputs: results.json, RD plots and a self-contained report.html."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from jpegplus.bench.runner import BenchRecord

CROP = 192
CROP_BPP = 0.3


def write_results(results: dict[str, object], out: Path) -> Path:
    """results.json, every point machine-readable."""
    path = out / "results.json"
    path.write_text(json.dumps(results, indent=1, default=float) + "\n")
    return path


def plot(curves: dict[str, list[dict[str, float]]], metric: str, out: Path) -> Path:
    """bpp vs ``metric`` for every curve."""
    figure = Figure(figsize=(7, 4.5), dpi=110)  # no pyplot: no GUI backend, nothing global to set
    axes = figure.subplots()
    for name, points in sorted(curves.items()):
        style = "--" if name.endswith("-plain-view") else ":" if name.endswith("+enhance") else "-"
        axes.plot([p["bpp"] for p in points], [p[metric] for p in points], style, marker="o", ms=3, label=name)
    axes.set_xlabel("bits per pixel (file bytes × 8 / pixels)")
    axes.set_ylabel({"psnr": "RGB PSNR (dB)", "ms_ssim": "MS-SSIM"}[metric])
    axes.set_xlim(0, 1.6)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path = out / f"rd_{metric}.png"
    figure.savefig(path)
    return path


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central ``size``×``size`` window (smaller images whole)."""
    top, left = max((image.shape[0] - size) // 2, 0), max((image.shape[1] - size) // 2, 0)
    return np.ascontiguousarray(image[top : top + size, left : left + size])


def crops(
    path: Path, decodes: dict[str, dict[int, np.ndarray]], records: list[BenchRecord], out: Path
) -> list[tuple[str, str]]:
    """Centre crops of the showcase image ``path``: the original and each curve near ``CROP_BPP``; (caption, file).

    The files are named ``example_crop_*.png`` and stay beside the report on the machine that ran it: as parts of
    evaluation photos they are not committed (``.gitignore``).
    """
    with Image.open(path) as picture:
        shown = [("original", "example_crop_original.png", np.asarray(picture.convert("RGB")))]
    for curve, by_quality in sorted(decodes.items()):
        points = {r.quality: r.bpp for r in records if r.curve == curve}
        quality = min(points, key=lambda q: abs(points[q] - CROP_BPP))
        caption = f"{curve} q{quality}, {points[quality]:.3f} bpp"
        shown.append((caption, f"example_crop_{curve}.png", by_quality[quality]))
    for _, file, image in shown:
        Image.fromarray(centre_crop(image, CROP)).save(out / file)
    return [(caption, file) for caption, file, _ in shown]


def _columns(rows: dict[str, dict[str, float]]) -> list[str]:
    """Every key of the rows, in the order they first appear."""
    return list(dict.fromkeys(key for row in rows.values() for key in row))


def _table(rows: dict[str, dict[str, float]], unit: str = "%") -> str:
    columns = _columns(rows)
    digits = 1 if unit == "%" else 4
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["curve", *columns])
    body = "".join(
        "<tr><td>"
        + html.escape(name)
        + "</td>"
        + "".join(f"<td>{row.get(c, float('nan')):+.{digits}f}{unit}</td>" for c in columns)
        + "</tr>"
        for name, row in sorted(rows.items())
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def write_html(results: dict, plots: list[Path], shown: list[tuple[str, str]], out: Path) -> Path:
    """report.html: BD-rate table, speed, plots and side-by-side crops; all files beside it."""
    speed_rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{s['encode_ms']:.1f}</td><td>{s['decode_ms']:.1f}</td>"
        f"<td>{s['decode_mp_per_s']:.2f}</td></tr>"
        for c, s in sorted(results["speed"].items())
    )
    figures = "".join(
        f'<figure><img src="{html.escape(f)}" alt="{html.escape(c)}"><figcaption>{html.escape(c)}</figcaption></figure>'
        for c, f in shown
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>jpegplus benchmark</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}figure{{display:inline-block;margin:4px}}
figure img{{image-rendering:pixelated;width:{CROP * 2}px}}</style></head><body>
<h1>jpegplus benchmark: {html.escape(str(results["config"]["dataset"]))}</h1>
<p>{len(results["config"]["images"])} images; {html.escape(results["bd_rate_method"])}.
Machine: {html.escape(json.dumps(results["machine"]))}</p>
<h2>BD-rate (negative = fewer bits for the same quality)</h2>{_table(results["bd_rate"])}
{_plain_view_html(results)}
<h2>Rate-distortion</h2>{"".join(f'<img src="{p.name}" alt="{p.stem}">' for p in plots)}
<h2>Side by side (the bundled example image, centre crop, about {CROP_BPP} bpp, shown 2×)</h2>{figures}
<h2>Speed (median per image)</h2><table><tr><th>curve</th><th>encode ms</th><th>decode ms</th><th>decode MP/s</th></tr>
{speed_rows}</table></body></html>"""
    path = out / "report.html"
    path.write_text(page)
    return path


PLAIN_VIEW_NOTE = (
    "What a plain viewer sees of jpegplus files (Pillow's decode, no network), against the plain codec "
    "at the same file size: PSNR (dB) and MS-SSIM differences; negative means the viewer sees less than "
    "the plain codec would have shown"
)


def _plain_view_html(results: dict) -> str:
    gaps = results.get("plain_view") or {}
    return f"<h2>Plain view</h2><p>{html.escape(PLAIN_VIEW_NOTE)}.</p>{_table(gaps, '')}" if gaps else ""


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def _markdown_table(rows: dict[str, dict[str, float]], unit: str = "%") -> list[str]:
    columns = _columns(rows)
    digits = 1 if unit == "%" else 4
    return [
        "| curve | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *(
            f"| {name} | " + " | ".join(f"{row.get(c, float('nan')):+.{digits}f}{unit}" for c in columns) + " |"
            for name, row in sorted(rows.items())
        ),
    ]


def markdown_summary(results: dict, plot_path: str) -> str:
    """The headline BD-rate table, the plain-view gaps (when measured) and one plot, as Markdown for README.md."""
    lines = [
        f"BD-rate on `{results['config']['dataset']}` ({len(results['config']['images'])} images; "
        f"{results['bd_rate_method']}); negative is better:",
        "",
        *_markdown_table(results["bd_rate"]),
    ]
    gaps = results.get("plain_view") or {}
    if gaps:
        lines += ["", PLAIN_VIEW_NOTE + ":", "", *_markdown_table(gaps, "")]
    return "\n".join([*lines, "", f"![bpp vs PSNR]({plot_path})"])


def splice_readme(readme: Path, summary: str) -> None:
    """Replace the text between the bench markers of ``readme`` with ``summary``."""
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + summary + "\n" + text[end:])
