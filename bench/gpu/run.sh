#!/usr/bin/env bash
# unipic GPU check runner (docs/performance.md, "GPU check"). Needs bash, tar, xz; no network.
#   ./run.sh [--work DIR] [check options: --device cuda|webgpu|cpu --dtypes q4f16,fp16 --steps N ...]
# Unpacks payload.tar.xz beside itself (once), uses the bundled Node unless UNIPIC_NODE names
# another, writes weights and graphs under --work (default: ./work, needs ~10 GB at full size),
# and prints one table on stdout (progress goes to stderr). The whole run is cut at 10 minutes
# (UNIPIC_CHECK_TIMEOUT seconds to change it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="$here/app"
if [ ! -f "$app/check.mjs" ]; then
  mkdir -p "$app.tmp"
  tar -C "$app.tmp" -xJf "$here/payload.tar.xz"
  mv "$app.tmp" "$app"
fi
node="${UNIPIC_NODE:-$app/node}"
work="$here/work"
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = --work ]; then work="$2"; shift 2; else args+=("$1"); shift; fi
done
# WebGPU over the NVIDIA (or any) Vulkan driver needs nothing here; VK_ICD_FILENAMES passes through.
cd "$app"
exec timeout --signal=TERM "${UNIPIC_CHECK_TIMEOUT:-600}" "$node" check.mjs --work "$work" "${args[@]}"
