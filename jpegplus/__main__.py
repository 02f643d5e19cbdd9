"""``python -m jpegplus``: the command line."""

from jpegplus.cli import main

main()
