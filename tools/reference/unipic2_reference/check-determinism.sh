#!/usr/bin/env bash
# Generates the Kontext fixtures twice into scratch folders and compares the sha256 of every file,
# then compares one of them with the committed test/fixtures/kontext. Exit status 1 on any difference.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$here/../../../test/fixtures/kontext"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
"$here/regenerate.sh" --out "$scratch/first" >/dev/null 2>&1
"$here/regenerate.sh" --out "$scratch/second" >/dev/null 2>&1
digest() { (cd "$1" && find . -type f ! -name README.md -print0 | sort -z | xargs -0 sha256sum); }
digest "$scratch/first" > "$scratch/first.sha256"
digest "$scratch/second" > "$scratch/second.sha256"
if ! diff -u "$scratch/first.sha256" "$scratch/second.sha256"; then
  echo "two runs differ" >&2
  exit 1
fi
echo "two runs identical: $(wc -l < "$scratch/first.sha256") files"
if [ -f "$committed/index.json" ]; then
  digest "$committed" > "$scratch/committed.sha256"
  if ! diff -u "$scratch/committed.sha256" "$scratch/first.sha256"; then
    echo "committed fixtures differ from a fresh run" >&2
    exit 1
  fi
  echo "committed fixtures identical to a fresh run"
fi
