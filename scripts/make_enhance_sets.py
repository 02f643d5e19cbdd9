"""Make enhance's evaluation sets from a folder of clean photos: ``python3 scripts/make_enhance_sets.py SRC OUT``.

The sets (single compressions, the robustness sets a-f, blind PNGs, clean photos) are described in
:mod:`jpegplus.bench.enhance_sets`; ``jpegplus bench-enhance OUT --out RESULTS`` measures them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jpegplus.bench.enhance_sets import make_sets, set_makers

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", type=Path, help="folder of clean PNG photos")
    parser.add_argument("out", type=Path, help="folder for the sets (one sub-folder each)")
    parser.add_argument("--sets", default="", help=f"comma-separated subset of: {', '.join(set_makers())}")
    arguments = parser.parse_args()
    names = [n for n in arguments.sets.split(",") if n] or None
    for name, count in make_sets(arguments.source, arguments.out, names).items():
        print(f"{name}: {count} files")
