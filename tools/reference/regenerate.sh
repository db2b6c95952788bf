#!/usr/bin/env bash
# Regenerates test/fixtures/reference (checkpoint files + goldens + index.json) from
# src/families/unipic1/convert/tiny/tiny-config.json. Run tools/reference/setup.sh once first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
PYTHONHASHSEED=0 CUBLAS_WORKSPACE_CONFIG=:4096:8 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
  "$here/.venv/bin/python" -m unipic_reference.generate "$@"
