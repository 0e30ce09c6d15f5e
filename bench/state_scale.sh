#!/usr/bin/env bash
# The ledger state at fleet scale: 1,000,000 registered devices and 100,000 releases (over 100
# products), built through the state machine; database size per device; and the check-in
# lookup rate on that state against a minimal one (1 product, 10 releases, 1 device), in the
# same run. Target: large >= 0.8 x minimal (within 20 %).
#
# The state is built by test_node_statefill (tests/node/statefill.c): every transaction is real,
# signed, and applied with node_state_apply (signature checked, rules, audit rows) in SQLite
# transactions of 10,000 on a WAL file with synchronous=FULL; one thread signs while another
# applies. The build is bounded (MAX_BUILD_S, default 480 s): when it hits the bound it stops and
# the figures are for the state it reached, which the output says.
#
# The check-in measured here is the state lookups of a check-in, called directly
# (node_state_device_get, then node_state_release_latest for the device's product, channel,
# hardware and installed counter), NOT an HTTP check-in: GET /v1/updates does not exist in
# this fwchaind yet. Rounds alternate between the two states (1 s each, ROUNDS of them, on
# CPU 0) and the medians are compared, so both see the same machine load. Each is measured on
# a read connection with SQLite's defaults (2 MB page cache, no memory map: how fwchaind opens
# its readers today) and with PRAGMA mmap_size (MMAP_MIB, default 4096), which lets a reader
# use the OS page cache without a read() per page.
#
# Usage: bench/state_scale.sh [BUILD_DIR]   (default build/release)
# Environment: DEVICES (1000000), RELEASES (100000), PRODUCTS (100), MAX_BUILD_S (480),
# ROUNDS (5), MMAP_MIB (4096).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

BIN=${1:-build/release}
FILL=$BIN/test_node_statefill
DEVICES=${DEVICES:-1000000}
RELEASES=${RELEASES:-100000}
PRODUCTS=${PRODUCTS:-100}
MAX_BUILD_S=${MAX_BUILD_S:-480}
ROUNDS=${ROUNDS:-5}
MMAP_MIB=${MMAP_MIB:-4096}
[ -x "$FILL" ] || { echo "bench/state_scale.sh: SKIP: $FILL not built (cmake --preset release &&" \
	"cmake --build build/release)"; exit 0; }
bench_tmp
need_kb=$((DEVICES * 2 + RELEASES * 4 + 65536)) # about 1.3 KiB per device measured, with slack
avail_kb=$(df -Pk "$BENCH_TMP" | awk 'NR==2 {print $4}')
[ "$avail_kb" -gt "$need_kb" ] ||
	{ echo "bench/state_scale.sh: SKIP: need $((need_kb / 1024)) MiB free in $BENCH_TMP"; exit 0; }

value() { sed -n "s/^$1=//p" "$2"; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

"$FILL" build "$BENCH_TMP/small.db" 1 10 1 60 >"$BENCH_TMP/small.out"
echo "building $DEVICES devices and $RELEASES releases over $PRODUCTS products (bound ${MAX_BUILD_S} s)..."
"$FILL" build "$BENCH_TMP/large.db" "$DEVICES" "$RELEASES" "$PRODUCTS" "$MAX_BUILD_S" \
	>"$BENCH_TMP/large.out" || true # stopped at the bound: measure what was reached
got_d=$(value devices "$BENCH_TMP/large.out")
got_r=$(value releases "$BENCH_TMP/large.out")
[ -n "$got_d" ] && [ "$got_d" -gt 0 ] || bench_die "the large state was not built"
bytes=$(value db_bytes "$BENCH_TMP/large.out")

# checkin_rate DB DEVICES MMAP_MIB: one 1 s round on CPU 0.
checkin_rate() {
	taskset -c 0 "$FILL" checkin "$1" "$2" 1 "$3" | sed -n 's/^checkins_per_s=//p'
}
small=() large=() small_mm=() large_mm=()
for _ in $(seq 1 "$ROUNDS"); do
	small+=("$(checkin_rate "$BENCH_TMP/small.db" 1 0)")
	large+=("$(checkin_rate "$BENCH_TMP/large.db" "$got_d" 0)")
	small_mm+=("$(checkin_rate "$BENCH_TMP/small.db" 1 "$MMAP_MIB")")
	large_mm+=("$(checkin_rate "$BENCH_TMP/large.db" "$got_d" "$MMAP_MIB")")
done
s_med=$(printf '%s\n' "${small[@]}" | median)
l_med=$(printf '%s\n' "${large[@]}" | median)
r=$(ratio "$l_med" "$s_med")
sm_med=$(printf '%s\n' "${small_mm[@]}" | median)
lm_med=$(printf '%s\n' "${large_mm[@]}" | median)
rm_=$(ratio "$lm_med" "$sm_med")

if [ "$got_d" -lt "$DEVICES" ] || [ "$got_r" -lt "$RELEASES" ]; then
	echo "NOTE: the build stopped at its ${MAX_BUILD_S} s bound: figures are for the state reached"
fi
printf 'state            %s devices, %s releases, %s products\n' "$got_d" "$got_r" "$PRODUCTS"
printf 'build            %s transactions through node_state_apply in %s s (%s/s)\n' \
	"$(value transactions "$BENCH_TMP/large.out")" "$(value apply_seconds "$BENCH_TMP/large.out")" \
	"$(value apply_per_s "$BENCH_TMP/large.out")"
printf 'database         %.1f MiB, %.0f bytes per device (everything in the file / devices)\n' \
	"$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')" \
	"$(awk -v b="$bytes" -v d="$got_d" 'BEGIN { print b / d }')"
printf 'check-in lookups (direct node_state calls, NOT HTTP), CPU 0, median of %s x 1 s:\n' "$ROUNDS"
printf '                 SQLite defaults (as fwchaind opens)   mmap_size %s MiB\n' "$MMAP_MIB"
printf '  minimal state  %8.0f /s                         %8.0f /s\n' "$s_med" "$sm_med"
printf '  large state    %8.0f /s                         %8.0f /s\n' "$l_med" "$lm_med"
printf '  ratio          %8s  (target >= 0.80: %s)   %8s  (%s)\n' "$r" "$(verdict "$r" 0.8)" \
	"$rm_" "$(verdict "$rm_" 0.8)"
