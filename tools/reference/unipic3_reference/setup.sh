#!/usr/bin/env bash
# Creates tools/reference/unipic3_reference/.venv with the pinned UniPic-3 oracle dependencies
# (CPU use only; torch from PyPI is the CUDA build and pulls ~2.5 GB of nvidia-* wheels).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --disable-pip-version-check -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import torch, diffusers; from diffusers import QwenImageTransformer2DModel, AutoencoderKLQwenImage; print('unipic3 oracle env ok: torch', torch.__version__, 'diffusers', diffusers.__version__)"
