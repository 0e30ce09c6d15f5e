#!/usr/bin/env bash
# The README's test command: install what is missing, build, run the whole suite.
# Usage: scripts/test.sh [PRESET]   (dev by default; .ci/run also runs it with asan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
scripts/install-deps.sh
scripts/build.sh "$preset"
ctest --test-dir "build/$preset" --output-on-failure -j"$(nproc)"
