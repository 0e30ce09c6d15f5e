#!/usr/bin/env bash
# Recomputes the large-file root CIDs of docs/formats/unixfs.md with the independent Python
# reference (hashlib only) and fails if doc and reference disagree. tests/unit/unixfs.c checks
# the same constants against the C importer, so C == doc == Python.
set -euo pipefail
src=${FWC_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v python3 >/dev/null; then
  echo "unixfs_ref: python3 not found, cannot run the reference (not a pass)"; exit 1
fi
python3 "$src/tests/tools/unixfs_ref.py" --check
