#!/usr/bin/env bash
# Regenerates test/fixtures/kontext (tiny UniPic-2 SD3.5M-Kontext checkpoint + goldens + index.json).
# Run tools/reference/unipic2_reference/setup.sh once first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
PYTHONHASHSEED=0 CUBLAS_WORKSPACE_CONFIG=:4096:8 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TRANSFORMERS_VERBOSITY=error \
  HF_HUB_OFFLINE=1 "$here/.venv/bin/python" -m unipic2_reference.generate "$@"
