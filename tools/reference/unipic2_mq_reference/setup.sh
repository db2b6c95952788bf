#!/usr/bin/env bash
# Creates tools/reference/unipic2_mq_reference/.venv (gitignored) and regenerates test/fixtures/metaquery
# (the sampler goldens with the Kontext oracle's venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --disable-pip-version-check -r "$here/requirements.txt"
cd "$here" && .venv/bin/python make_goldens.py
# The generate/edit sampler goldens reuse the Kontext oracle and its venv (diffusers).
kontext="$here/../unipic2_reference/.venv/bin/python"
if [ -x "$kontext" ]; then cd "$here" && "$kontext" sampler_goldens.py; else echo "run ../unipic2_reference/setup.sh, then: $kontext sampler_goldens.py" >&2; fi
