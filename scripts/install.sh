#!/usr/bin/env bash
# Install jpegplus with its test tools and the optional extras (so CI tests them). torch is
# pinned to the CPU build first, because a bare `torch` requirement would pull the multi-GB CUDA
# wheels; an installed torch>=2.2 is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet "torch==2.13.0"
fi
# openvino: the faster CPU runtime; onnxruntime: the runtime bench-speed measures beside it;
# ray: the --engine ray batches and their tests (about 25 s and 500 MB).
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test,openvino,onnxruntime,ray]"
