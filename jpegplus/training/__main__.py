"""``python -m jpegplus.training ...``: the same as ``jpegplus train ...``."""

from __future__ import annotations

import sys

from jpegplus.cli import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "train", *sys.argv[1:]]
    main()
