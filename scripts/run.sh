#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run fwchain's main job on
# its embedded defaults (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
exec scripts/demo.sh build/release
