#!/usr/bin/env bash
# Creates tools/reference/.venv with the pinned oracle dependencies (CPU use only).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import torch, transformers, timm, safetensors, numpy; print('oracle env ok: torch', torch.__version__, 'transformers', transformers.__version__, 'timm', timm.__version__)"
