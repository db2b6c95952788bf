#!/usr/bin/env bash
# Creates tools/reference/unipic2_reference/.venv with the pinned Kontext-oracle dependencies
# (CPU use only; torch from PyPI is the CUDA build and pulls ~2.5 GB of nvidia-* wheels).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import torch, diffusers, transformers, PIL; print('kontext oracle env ok: torch', torch.__version__, 'diffusers', diffusers.__version__, 'transformers', transformers.__version__, 'pillow', PIL.__version__)"
