#!/usr/bin/env bash
# Runs every benchmark against its same-run reference and prints the ratios.
# Usage: bench/run.sh [NAME...]   (default: all). Builds the release preset first.
# Benchmarks are never part of the test suite: these machines are shared and noisy, so only
# ratios measured in one run mean anything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release >/dev/null
want=("$@")
run() {
  local name=$1; shift
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then return 0; fi
  echo "=== $name"
  "$@"
}
for bin in build/release/bench_*; do
  name=${bin##*/bench_}
  run "$name" "$bin"
done
for sh in bench/*.sh; do
  name=$(basename "$sh" .sh)
  [ "$name" = run ] || [ "$name" = lib ] || [[ "$name" == *_lib ]] && continue
  run "$name" bash "$sh"
done
