#!/usr/bin/env bash
# Creates tools/reference/unipic2_mq_reference/.venv (gitignored) and regenerates test/fixtures/metaquery.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3.11 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --disable-pip-version-check -r "$here/requirements.txt"
cd "$here" && .venv/bin/python make_goldens.py
