#!/usr/bin/env bash
# Committed transactions per second of fwchaind on one core, against the single-core BIP-340
# verification rate measured on that core in the same run, and commit latency (POST to
# committed) p50/p99.
#
# fwchaind runs pinned to CPU 0 (taskset), the load generator (bench_node_txload) on CPU 1;
# each case uses a fresh data directory in a temp dir; commits are durable (fwchaind's SQLite
# runs synchronous=FULL) and every signature is checked by the node. Cases:
#   events    device events, each sent by its device in the self-reported form (one
#             signature: the envelope's covers the event)             target tps >= 0.5 x V
#   releases  RELEASEs of a 2-of-3 release key set (3 signatures)   target tps >= 0.5 x V/3
# each measured twice: one transaction per POST /v1/txs, and BATCH transactions per
# POST /v1/txs/batch (what a gateway relaying many devices' events sends).
#   envelope  (only when the node has no state machine yet) device-event-shaped transactions
#             whose envelope alone is checked                        reported against V
# where V is bench_node_txload's single-thread rate of raw libsecp256k1 BIP-340 verification
# on CPU 0, each with its key's parse (secp256k1_xonly_pubkey_parse + secp256k1_schnorrsig_verify:
# what verifying (key, message, signature) bytes costs; the node's cache of parsed keys is not
# in it), the median of measurements taken before every run, since the machine is shared. Each case runs once flooding
# (throughput; latency then includes queueing in the mempool) and once paced at half the
# measured throughput (latency of a node that keeps up).
#
# Usage: bench/node_tx.sh [BUILD_DIR]   (default build/release)
# Environment: FWCHAIND (the node binary, default BUILD_DIR/fwchaind), COUNT (events per case,
# default 40000; releases use COUNT/3), SECS (time bound per run, default 20), CONNS (default
# 8), BLOCK_MS (block interval, default 100), BATCH (transactions per batch POST, default 256;
# 1 skips the batch cases).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

BIN=${1:-build/release}
FWCHAIND=${FWCHAIND:-$BIN/fwchaind}
LOAD=$BIN/bench_node_txload
COUNT=${COUNT:-40000}
SECS=${SECS:-20}
CONNS=${CONNS:-8}
BLOCK_MS=${BLOCK_MS:-100}
BATCH=${BATCH:-256}
for b in "$FWCHAIND" "$LOAD"; do
	[ -x "$b" ] || { echo "bench/node_tx.sh: SKIP: $b not built (cmake --preset release &&" \
		"cmake --build build/release)"; exit 0; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench/node_tx.sh: SKIP: needs 2 CPUs"; exit 0; }
bench_tmp

# The machine is shared and noisy: V is measured on CPU 0 before every run and the median is
# the reference (the spread is printed too).
VS=()
measure_v() {
	local v
	v=$(taskset -c 0 "$LOAD" verify 1 | sed -n 's/^verify_per_s=//p')
	[ -n "$v" ] || bench_die "cannot measure the verification rate"
	VS+=("$v")
}

# value KEY FILE
value() { sed -n "s/^$1=//p" "$2"; }

# CPU seconds (user + system) the process $1 has used so far.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# run_case NAME MODE COUNT [RATE [BATCH]]: fresh node on CPU 0, load on CPU 1; output in
# $BENCH_TMP.
run_case() {
	local name=$1 mode=$2 count=$3 rate=${4:-0} batch=${5:-1} dir=$BENCH_TMP/$1
	measure_v
	NODE_CPU=0 fwchaind_start "$dir" --block-interval-ms "$BLOCK_MS"
	local c0 c1
	c0=$(cpu_s "$NODE_PID")
	timeout $((SECS + 120)) taskset -c 1 "$LOAD" run "$NODE_PORT" "$dir" "$mode" "$count" \
		"$SECS" "$CONNS" "$rate" "$batch" >"$BENCH_TMP/$name.out" 2>"$BENCH_TMP/$name.err" ||
		{ cat "$BENCH_TMP/$name.err" >&2; fwchaind_stop; bench_die "load generator failed ($name)"; }
	c1=$(cpu_s "$NODE_PID")
	echo "node_cpu_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')" \
		>>"$BENCH_TMP/$name.out"
	FAILED=n/a
	if [ "$mode" != envelope ]; then
		FAILED=$(curl -s "http://127.0.0.1:$NODE_PORT/v1/audit?status=failed&limit=1000" |
			python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
	fi
	fwchaind_stop
}

report() {
	local label=$1 name=$2 ref=$3 target=$4 out=$BENCH_TMP/$2.out pout=$BENCH_TMP/$2-paced.out
	local tps r
	tps=$(value tps "$out")
	r=$(ratio "$tps" "$ref")
	printf '%-15s %8.0f tx/s committed  (%s of %s accepted, %s failed by rules, all in %s s)\n' \
		"$label" "$tps" "$(value committed "$out")" "$(value accepted "$out")" "$FAILED" \
		"$(value seconds "$out")"
	printf '                ratio %s vs %.0f/s  (target >= %s: %s)\n' "$r" "$ref" "$target" \
		"$(verdict "$r" "$target")"
	# On a shared machine the node does not get its core whole: committed transactions per
	# second of the node's own CPU time (setup and polling included, so a lower bound).
	local cpu per
	cpu=$(value node_cpu_s "$out")
	per=$(awk -v n="$(value committed "$out")" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print 0 }')
	printf '                per node CPU-second %6.0f tx  ratio %s  (node CPU %s s for the run)\n' \
		"$per" "$(ratio "$per" "$ref")" "$cpu"
	printf '                commit latency flooding   p50 %7.1f ms  p99 %7.1f ms\n' \
		"$(value p50_ms "$out")" "$(value p99_ms "$out")"
	[ -f "$pout" ] && printf '                commit latency at %s/s  p50 %7.1f ms  p99 %7.1f ms\n' \
		"$(value rate "$BENCH_TMP/$2-paced.rate")" "$(value p50_ms "$pout")" "$(value p99_ms "$pout")"
	return 0
}

# paced NAME MODE COUNT [BATCH]: the same case at half the flooding throughput, for SECS/2 at
# most.
paced() {
	local tps rate n batch=${4:-1}
	tps=$(value tps "$BENCH_TMP/$1.out")
	rate=$(awk -v t="$tps" 'BEGIN { r = int(t / 2); print (r > 0 ? r : 1) }')
	n=$(awk -v r="$rate" -v s="$SECS" -v c="$3" 'BEGIN { n = int(r * s / 2); print (n < c ? n : c) }')
	[ "$n" -ge "$CONNS" ] || return 0
	echo "rate=$rate" >"$BENCH_TMP/$1-paced.rate"
	run_case "$1-paced" "$2" "$n" "$rate" "$batch"
}

print_v() {
	V=$(printf '%s\n' "${VS[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	printf 'reference V: BIP-340 verify (raw libsecp256k1, key parse included, one thread, CPU 0)  %.0f/s (median of %d,' \
		"$V" "${#VS[@]}"
	printf ' range %s..%s)\n' "$(printf '%s\n' "${VS[@]}" | sort -n | head -1)" \
		"$(printf '%s\n' "${VS[@]}" | sort -n | tail -1)"
}

# Does this node run the state machine (query endpoints answer)?
probe=$BENCH_TMP/probe
NODE_CPU=0 fwchaind_start "$probe"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NODE_PORT/v1/orgs")
fwchaind_stop

printf 'fwchaind on CPU 0, load on CPU 1, %s connections, block interval %s ms, load average %s\n' \
	"$CONNS" "$BLOCK_MS" "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$code" = 200 ]; then
	declare -A F
	for m in events releases; do
		n=$COUNT
		[ "$m" = releases ] && n=$((COUNT / 3))
		run_case "$m" "$m" "$n"
		F[$m]=$FAILED
		paced "$m" "$m" "$n"
		if [ "$BATCH" -gt 1 ]; then
			run_case "$m-batch" "$m" "$n" 0 "$BATCH"
			F[$m-batch]=$FAILED
			paced "$m-batch" "$m" "$n" "$BATCH"
		fi
	done
	print_v
	V3=$(awk -v v="$V" 'BEGIN { print v / 3 }')
	echo "single: one transaction per POST /v1/txs; batch: $BATCH per POST /v1/txs/batch"
	FAILED=${F[events]} report "events single" events "$V" 0.5
	[ "$BATCH" -gt 1 ] && FAILED=${F[events-batch]} report "events batch" events-batch "$V" 0.5
	FAILED=${F[releases]} report "releases single" releases "$V3" 0.5
	[ "$BATCH" -gt 1 ] && FAILED=${F[releases-batch]} report "releases batch" releases-batch "$V3" 0.5
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
else
	echo "NOTE: this fwchaind has no state machine wired in (GET /v1/orgs: $code): measuring"
	echo "      ENVELOPE-ONLY transactions (signature, chain id, nonce; no state rules, no"
	echo "      event signature). Events and 2-of-3 releases need the state machine."
	run_case envelope envelope "$COUNT"
	paced envelope envelope "$COUNT"
	print_v
	report envelope envelope "$V" 0.5
fi
