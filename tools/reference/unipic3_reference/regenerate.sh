#!/usr/bin/env bash
# Regenerates test/fixtures/unipic3 (tiny UniPic-3 checkpoint + goldens + index.json).
# Run tools/reference/unipic3_reference/setup.sh once first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
PYTHONHASHSEED=0 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 HF_HUB_OFFLINE=1 "$here/.venv/bin/python" -m unipic3_reference.generate "$@"
"$here/.venv/bin/python" "$here/prompt_goldens.py"
PYTHONHASHSEED=0 OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 "$here/.venv/bin/python" -m unipic3_reference.edit_goldens
