#!/usr/bin/env bash
# Installs Mesa >= 25 lavapipe (a CPU Vulkan driver with shaderFloat16) from Debian
# bookworm-backports, so onnxruntime-node's WebGPU EP can run the fp16/q4f16 graphs with f16.
#
# - No host is named: the machine's own /etc/apt/sources.list.d/debian.sources entry (whatever
#   mirror or snapshot it points at) is copied with Suites changed to bookworm-backports.
# - Pinned: backports stays at priority 100 (never chosen on its own); only mesa-vulkan-drivers is
#   asked for from backports, and apt takes from there just the dependencies that version needs.
#   A preferences file keeps mesa-vulkan-drivers following backports on later upgrades. Every other
#   Mesa package (GL, EGL, DRI) stays the system's own.
# - Idempotent: exits in well under a second when lavapipe >= 25 is already installed.
# Usage: sudo tools/ci/install-lavapipe.sh   (prints the ICD path on success)
# Afterwards: VK_ICD_FILENAMES=<printed path> to make Dawn use lavapipe.
set -euo pipefail

MIN_MAJOR=25

# Mesa 25 on Debian ships lvp_icd.json (22.3 had lvp_icd.<arch>.json); ask dpkg which it is.
lavapipe_icd() {
  dpkg-query -L mesa-vulkan-drivers 2>/dev/null | grep -E '/icd\.d/lvp_icd[^/]*\.json$' | head -n 1
}

installed_major() {
  dpkg-query -W -f='${Status} ${Version}\n' mesa-vulkan-drivers 2>/dev/null \
    | awk '$3 == "installed" { split($4, v, "."); print v[1] + 0 }'
}

major="$(installed_major || true)"
ICD="$(lavapipe_icd || true)"
if [ -n "$major" ] && [ "$major" -ge "$MIN_MAJOR" ] && [ -n "$ICD" ] && [ -f "$ICD" ]; then
  echo "$ICD"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-lavapipe: needs root (apt-get); run it with sudo" >&2
  exit 1
fi
. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "install-lavapipe: written for Debian 12 bookworm (found ${VERSION_CODENAME:-unknown}); newer Debian releases ship Mesa >= 25: apt-get install mesa-vulkan-drivers libvulkan1" >&2
  exit 1
fi

SYSTEM_SOURCES=/etc/apt/sources.list.d/debian.sources
BACKPORTS_SOURCES=/etc/apt/sources.list.d/unipic-bookworm-backports.sources
PIN=/etc/apt/preferences.d/unipic-lavapipe
if [ ! -f "$BACKPORTS_SOURCES" ]; then
  if [ ! -f "$SYSTEM_SOURCES" ]; then
    echo "install-lavapipe: $SYSTEM_SOURCES not found; add a bookworm-backports source by hand" >&2
    exit 1
  fi
  # The first stanza whose Suites include plain "bookworm" is the main archive (not -security).
  awk -v RS= -v ORS='\n\n' '/\nSuites:[^\n]*bookworm( |\n|$)/ && !done { print; done = 1 }' "$SYSTEM_SOURCES" \
    | sed -E 's/^Suites:.*/Suites: bookworm-backports/' > "$BACKPORTS_SOURCES.tmp"
  if ! grep -q '^Suites: bookworm-backports' "$BACKPORTS_SOURCES.tmp"; then
    rm -f "$BACKPORTS_SOURCES.tmp"
    echo "install-lavapipe: no bookworm stanza in $SYSTEM_SOURCES" >&2
    exit 1
  fi
  mv "$BACKPORTS_SOURCES.tmp" "$BACKPORTS_SOURCES"
fi
cat > "$PIN" <<'PINS'
# Written by unipic tools/ci/install-lavapipe.sh: only the Vulkan drivers follow bookworm-backports.
Package: *
Pin: release n=bookworm-backports
Pin-Priority: 100

Package: mesa-vulkan-drivers
Pin: release n=bookworm-backports
Pin-Priority: 990
PINS

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# "pkg/suite" takes that one package from backports; apt then selects from backports only the
# dependencies whose bookworm versions are too old for it (it prints each "Selected version").
apt-get install -y -qq --no-install-recommends libvulkan1 mesa-vulkan-drivers/bookworm-backports >&2

major="$(installed_major || true)"
ICD="$(lavapipe_icd || true)"
if [ -z "$major" ] || [ "$major" -lt "$MIN_MAJOR" ] || [ -z "$ICD" ] || [ ! -f "$ICD" ]; then
  echo "install-lavapipe: mesa-vulkan-drivers ${major:-missing} installed, need >= $MIN_MAJOR with a lavapipe ICD" >&2
  exit 1
fi
echo "$ICD"
