#!/usr/bin/env bash
# Install jpegplus with its test tools, the optional extras and the decoders the tests open files with
# (so CI tests them). torch is pinned to the CPU build first, because a bare `torch` requirement would
# pull the multi-GB CUDA wheels; an installed torch>=2.2 is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet "torch==2.13.0"
fi
# openvino: the faster CPU runtime; onnxruntime: the runtime bench-speed measures beside it;
# ray: the --engine ray batches and their tests (about 25 s and 500 MB); heif: HEIC inputs (about 15 MB).
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test,openvino,onnxruntime,ray,heif]"
# The decoders and viewers the interoperability tests open jpegplus files with (djpeg, exiftool,
# headless chromium; about 20 s): Debian packages, installed where apt-get can (root), else those
# tests skip and say which package they need.
TOOLS=(djpeg:libjpeg-turbo-progs exiftool:libimage-exiftool-perl chromium:chromium)
missing=()
for pair in "${TOOLS[@]}"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if ((${#missing[@]})) && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}"; } >/dev/null 2>&1 || echo "install.sh: could not install ${missing[*]}; their tests will skip" >&2
fi
