#!/usr/bin/env bash
# Install jpegplus, then compress and decompress the bundled example, printing what it gained.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
out=$(mktemp -d)
jpegplus compress examples/astronaut.png -o "$out/astronaut.jpg" --codec jpeg --quality 50
jpegplus decompress "$out/astronaut.jpg" -o "$out/astronaut.png"
jpegplus info "$out/astronaut.jpg"
python3 examples/compare.py examples/astronaut.png "$out/astronaut.jpg" "$out/astronaut.png"
echo "outputs in $out"
