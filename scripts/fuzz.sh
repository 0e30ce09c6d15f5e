#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 30), starting from its seed
# corpus. New inputs go to a scratch folder, never into the checked-in corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
scripts/build.sh fuzz
status=0
for bin in build/fuzz/fuzz_*; do
  name=${bin##*/fuzz_}
  work=$(mktemp -d)
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      "$work" "fuzz/corpus/$name" >"$work.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -n 40 "$work.log"; status=1
  fi
  rm -rf "$work" "$work.log"
done
exit $status
