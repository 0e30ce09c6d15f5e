#!/usr/bin/env bash
# Benchmark of `fwchain cid FILE` against coreutils `sha256sum FILE` on a 1 GiB file.
# Requirement: fwchain cid throughput >= 0.8 x sha256sum. Also reports fwchain cid's peak RSS.
#
# Usage: bench/cid.sh [path/to/fwchain]   (default: build/release/fwchain)
# The file is random bytes in a fresh temp dir (TMPDIR respected), read once beforehand so both
# tools read it from the page cache, and removed on exit. Each tool runs RUNS times (default 3);
# the median wall time is used. Skips (exit 0) with a message when the CLI is not built or
# there is not enough free space.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/fwchain}
runs=${RUNS:-3}
size=$((1024 * 1024 * 1024))

if [ ! -x "$bin" ]; then
  echo "bench/cid.sh: SKIP: CLI binary $bin not found (build it: cmake --preset release &&" \
       "cmake --build build/release)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
avail_kb=$(df -Pk "$tmp" | awk 'NR==2 {print $4}')
if [ "$avail_kb" -lt $((size / 1024 + 65536)) ]; then
  echo "bench/cid.sh: SKIP: need 1.1 GiB free in $tmp, have $((avail_kb / 1024)) MiB"
  exit 0
fi
file=$tmp/image.bin
head -c "$size" /dev/urandom >"$file"
cat "$file" >/dev/null

# median wall seconds of RUNS runs of "$@" (output discarded)
median() {
  local t=() s e
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N)
    "$@" >/dev/null
    e=$(date +%s.%N)
    t+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${t[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

sha_s=$(median sha256sum "$file")
cid_s=$(median "$bin" cid "$file")
cid=$("$bin" cid "$file")
sha_mbs=$(echo "$size / $sha_s / 1000000" | bc -l)
cid_mbs=$(echo "$size / $cid_s / 1000000" | bc -l)
ratio=$(echo "$cid_mbs / $sha_mbs" | bc -l)

if [ -x /usr/bin/time ]; then
  rss_kb=$(/usr/bin/time -f %M "$bin" cid "$file" 2>&1 >/dev/null | tail -n 1)
else
  # No GNU time: sample VmHWM from /proc while it runs (the last sample is the peak so far).
  "$bin" cid "$file" >/dev/null & pid=$!
  rss_kb=0
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && rss_kb=$v
    sleep 0.05
  done
  wait "$pid"
fi

printf 'file           1 GiB random, %s runs each, median\n' "$runs"
printf 'sha256sum      %8.1f MB/s  (%.2f s)\n' "$sha_mbs" "$sha_s"
printf 'fwchain cid    %8.1f MB/s  (%.2f s)  %s\n' "$cid_mbs" "$cid_s" "$cid"
printf 'ratio          %8.2f  (requirement >= 0.80: %s)\n' "$ratio" \
  "$(echo "$ratio >= 0.8" | bc -l | sed 's/1/met/; s/0/NOT met/')"
printf 'peak RSS       %8d KiB (fwchain cid)\n' "$rss_kb"
