#!/usr/bin/env bash
# The ledger at fleet scale, in three parts, each against a minimal state in the same run
# (target for each: large >= 0.8 x minimal, i.e. within 20 %). PART=devices (the default) runs
# part 3, the check-in as registered devices make it; PART=http, direct, both (1 and 2), all.
#
# 3. HTTP check-in by registered devices. Two fwchaind --dev data directories, their state
#    filled (node stopped) by test_node_statefill build-node through node_state_apply with the
#    node's chain, admin and clock: 1,000,000 devices, 100,000 releases over 100 products
#    (bound MAX_BUILD_S), and 1 device, 10 releases for the minimal one. Both nodes run on CPU 0
#    (--threads 1); wrk (1 thread, 64 connections, CPU 1, bench/checkin_devices.lua) sends each
#    request as a random registered device, counter = the newest (answer: no update), in
#    alternating ROUNDS x SECS s, cold (the node just started: its device cache empty but for
#    what its warming thread, at the idle scheduling class, has read meanwhile; the output
#    quotes the node's "device cache warmed" line), then after a warm-up in which every
#    device checks in once (bound WARM_S), warm. Prints req/s, p99, node CPU use and node CPU
#    time per check-in, the ratios, the load average and the database size per device.
#    The client does the same work in both arms: the minimal node's key file repeats its one
#    device key as many times as the large node has keys, and every request carries its line
#    number (&n=I, a parameter the node ignores), so wrk draws from a table of as many distinct
#    request strings of the same size in both (LuaJIT interns strings: without &n the minimal
#    arm's million entries would be one string, always in wrk's CPU cache).
#
# 1. HTTP check-in on a node holding 100,000 releases. A fwchaind (CPU 0, one HTTP thread) gets
#    100 products with 2-of-3 release sets and 100,000 releases over them, POSTed like any
#    client's by bench_node_txload fill (every transaction checked, applied, logged, durable);
#    a second fwchaind holds one product, one release and one device (bench_node_txload
#    checkin-setup). wrk (CPU 1, 64 connections) asks both for GET /v1/updates (product,
#    channel stable, hardware rev-b, counter 0: the answer is the proof bundle of the newest
#    release), alternating ROUNDS x SECS s. Devices are not registered on these nodes: the
#    check-in answer does not depend on them (node/updates.c), and registering a million
#    through the node would take longer than this whole benchmark may.
# 2. The state with 1,000,000 registered devices and 100,000 releases, built through the state
#    machine by test_node_statefill (tests/node/statefill.c): real signed transactions applied
#    with node_state_apply in SQLite transactions of 10,000 (WAL, synchronous=FULL), one
#    thread signing while the other applies, bounded by MAX_BUILD_S (it stops and the figures
#    are for the state reached, which the output says). Reported: the database size per
#    device, and the state lookups of a check-in made directly (node_state_device_get, then
#    node_state_release_latest; NOT HTTP) for random devices, against a minimal state, in
#    alternating 1 s rounds on CPU 0, with SQLite's defaults (as fwchaind opens its readers)
#    and with PRAGMA mmap_size = MMAP_MIB.
#
# Usage: bench/state_scale.sh [BUILD_DIR]   (default build/release)
# Environment: FWCHAIND, RELEASES (100000), PRODUCTS (100), DEVICES (1000000), FILL_S (150),
# MAX_BUILD_S (400), ROUNDS (3), SECS (5), WARM_S (120), MMAP_MIB (4096),
# PART (devices | all | both | http | direct).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

BIN=${1:-build/release}
FWCHAIND=${FWCHAIND:-$BIN/fwchaind}
LOAD=$BIN/bench_node_txload
FILL=$BIN/test_node_statefill
RELEASES=${RELEASES:-100000}
PRODUCTS=${PRODUCTS:-100}
DEVICES=${DEVICES:-1000000}
FILL_S=${FILL_S:-150}
MAX_BUILD_S=${MAX_BUILD_S:-400}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
MMAP_MIB=${MMAP_MIB:-4096}
WARM_S=${WARM_S:-120}
PART=${PART:-devices}
for b in "$FWCHAIND" "$LOAD" "$FILL"; do
	[ -x "$b" ] || { echo "bench/state_scale.sh: SKIP: $b not built (cmake --preset release &&" \
		"cmake --build build/release)"; exit 0; }
done
[ "$(nproc)" -ge 2 ] || { echo "bench/state_scale.sh: SKIP: needs 2 CPUs"; exit 0; }
bench_tmp
need_kb=$((DEVICES * 2 + RELEASES * 8 + 65536)) # measured: ~0.8 KiB per device, with slack
avail_kb=$(df -Pk "$BENCH_TMP" | awk 'NR==2 {print $4}')
[ "$avail_kb" -gt "$need_kb" ] ||
	{ echo "bench/state_scale.sh: SKIP: need $((need_kb / 1024)) MiB free in $BENCH_TMP"; exit 0; }

value() { sed -n "s/^$1=//p" "$2"; }
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# ---------------------------------------------------------------------------- 1. HTTP
http_part() {
	local small=$BENCH_TMP/small large=$BENCH_TMP/large s_port l_port product url_s url_l
	local s_rps=() l_rps=() s_p99=() l_p99=() bytes s_med l_med r

	NODE_CPU=0 fwchaind_start "$small" --threads 1
	s_port=$NODE_PORT
	S_PID=$NODE_PID
	taskset -c 1 "$LOAD" checkin-setup "$s_port" "$small" >"$BENCH_TMP/small.setup" ||
		bench_die "cannot set up the minimal node"
	product=$(value product "$BENCH_TMP/small.setup")
	url_s="http://127.0.0.1:$s_port/v1/updates?product=$product&channel=stable&hw=rev-b&counter=0"

	NODE_CPU=0 fwchaind_start "$large" --threads 1
	l_port=$NODE_PORT
	L_PID=$NODE_PID
	echo "filling a node with $RELEASES releases over $PRODUCTS products (bound ${FILL_S} s)..."
	timeout $((FILL_S + 300)) taskset -c 1 "$LOAD" fill "$l_port" "$large" "$RELEASES" \
		"$PRODUCTS" "$FILL_S" 8 >"$BENCH_TMP/large.fill" 2>"$BENCH_TMP/large.fill.err" ||
		{ cat "$BENCH_TMP/large.fill.err" >&2; bench_die "the fill failed"; }
	product=$(value product "$BENCH_TMP/large.fill")
	url_l="http://127.0.0.1:$l_port/v1/updates?product=$product&channel=stable&hw=rev-b&counter=0"
	for u in "$url_s" "$url_l"; do
		[ "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$u")" = \
			"200 application/cbor" ] || bench_die "no update bundle from $u"
	done
	for _ in $(seq 1 "$ROUNDS"); do
		wrk_run "$url_s" 64 "$SECS" 1
		s_rps+=("$WRK_RPS") s_p99+=("$WRK_P99_MS")
		wrk_run "$url_l" 64 "$SECS" 1
		l_rps+=("$WRK_RPS") l_p99+=("$WRK_P99_MS")
	done
	bytes=$(($(stat -c %s "$large/ledger.db") + $(stat -c %s "$large/ledger.db-wal" 2>/dev/null || echo 0)))
	stop_pid "$S_PID"
	stop_pid "$L_PID"
	s_med=$(printf '%s\n' "${s_rps[@]}" | median)
	l_med=$(printf '%s\n' "${l_rps[@]}" | median)
	r=$(ratio "$l_med" "$s_med")
	printf '1. HTTP check-in, GET /v1/updates (an update: the proof bundle), fwchaind --threads 1 on CPU 0, wrk 64 connections on CPU 1, median of %s x %s s\n' \
		"$ROUNDS" "$SECS"
	printf '   large node     %s releases committed over %s products through the API in %s s (%s tx/s); ledger %s MiB\n' \
		"$(value committed "$BENCH_TMP/large.fill")" "$PRODUCTS" \
		"$(value seconds "$BENCH_TMP/large.fill")" "$(value tps "$BENCH_TMP/large.fill")" "$(mib "$bytes")"
	printf '   minimal node   %8.0f req/s  p99 %6.2f ms\n' "$s_med" \
		"$(printf '%s\n' "${s_p99[@]}" | median)"
	printf '   large node     %8.0f req/s  p99 %6.2f ms\n' "$l_med" \
		"$(printf '%s\n' "${l_p99[@]}" | median)"
	printf '   ratio          %8s  (target >= 0.80: %s)\n' "$r" "$(verdict "$r" 0.8)"
}

# -------------------------------------------------------------------------- 2. direct
direct_part() {
	local got_d got_r bytes s_med l_med sm_med lm_med r rm_
	local small=() large=() small_mm=() large_mm=()

	"$FILL" build "$BENCH_TMP/small.db" 1 10 1 60 >"$BENCH_TMP/small.out"
	echo "building $DEVICES devices and $RELEASES releases over $PRODUCTS products through node_state_apply (bound ${MAX_BUILD_S} s)..."
	"$FILL" build "$BENCH_TMP/large.db" "$DEVICES" "$RELEASES" "$PRODUCTS" "$MAX_BUILD_S" \
		>"$BENCH_TMP/large.out" || true # stopped at the bound: measure what was reached
	got_d=$(value devices "$BENCH_TMP/large.out")
	got_r=$(value releases "$BENCH_TMP/large.out")
	[ -n "$got_d" ] && [ "$got_d" -gt 0 ] || bench_die "the large state was not built"
	bytes=$(value db_bytes "$BENCH_TMP/large.out")
	for _ in $(seq 1 "$((ROUNDS + 2))"); do
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

	echo "2. state with devices (direct state machine calls, NOT HTTP)"
	if [ "$got_d" -lt "$DEVICES" ] || [ "$got_r" -lt "$RELEASES" ]; then
		echo "   NOTE: the build stopped at its ${MAX_BUILD_S} s bound: figures are for the state reached"
	fi
	printf '   state          %s devices, %s releases, %s products\n' "$got_d" "$got_r" "$PRODUCTS"
	printf '   build          %s transactions through node_state_apply in %s s (%s/s)\n' \
		"$(value transactions "$BENCH_TMP/large.out")" \
		"$(value apply_seconds "$BENCH_TMP/large.out")" "$(value apply_per_s "$BENCH_TMP/large.out")"
	printf '   database       %s MiB, %.0f bytes per device (the whole file / devices)\n' \
		"$(mib "$bytes")" "$(awk -v b="$bytes" -v d="$got_d" 'BEGIN { print b / d }')"
	printf '   check-in lookups on CPU 0, median of %s x 1 s:\n' "$((ROUNDS + 2))"
	printf '                  SQLite defaults (as fwchaind opens)   mmap_size %s MiB\n' "$MMAP_MIB"
	printf '   minimal state  %8.0f /s                         %8.0f /s\n' "$s_med" "$sm_med"
	printf '   large state    %8.0f /s                         %8.0f /s\n' "$l_med" "$lm_med"
	printf '   ratio          %8s  (target >= 0.80: %s)   %8s  (%s)\n' "$r" \
		"$(verdict "$r" 0.8)" "$rm_" "$(verdict "$rm_" 0.8)"
}

# ------------------------------------------------------------------------- 3. devices
# wrk_devices URL KEYS PRODUCTS COUNTER [SECONDS [SEQ]]: one wrk run (CPU 1, 64 connections, SECS
# s) whose every request is the check-in of a random device of KEYS (bench/checkin_devices.lua),
# or with SEQ 1 of every device in turn (the warm-up). One wrk thread: wrk runs a thread's
# script init (here: formatting a request per device, seconds for a million) before it starts
# the next thread, but starts its clock after the last, so with two threads the first one's
# requests during the second one's init are counted and their time is not.
wrk_devices() {
	local out=$BENCH_TMP/wrk.out secs=${5:-$SECS}
	FWC_KEYS=$2 FWC_PRODUCTS=$3 FWC_COUNTER=$4 FWC_SEQ=${6:-0} FWC_THREADS=1 \
		timeout $((secs + 120)) taskset -c 1 \
		wrk -t 1 -c 64 -d "${secs}s" --latency -s bench/checkin_devices.lua "$1" >"$out" 2>&1 ||
		{ cat "$out" >&2; bench_die "wrk failed"; }
	WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	WRK_P99_MS=$(wrk_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	WRK_ERRORS=$(awk '/Non-2xx or 3xx responses:/ {n += $NF}
		/Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
	[ -n "$WRK_RPS" ] || { cat "$out" >&2; bench_die "cannot read wrk's output"; }
}

devices_part() {
	local small=$BENCH_TMP/dsmall large=$BENCH_TMP/dlarge got_d got_r counter bytes s_port l_port
	local k

	command -v wrk >/dev/null || { echo "PART devices: SKIP: wrk not installed"; return 0; }
	# Two data directories made by fwchaind --dev (genesis, keys, admin keystore), then
	# stopped, their state filled by test_node_statefill build-node (the node's chain, admin
	# and clock; every transaction through node_state_apply on the node's ledger.db).
	for d in "$small" "$large"; do
		fwchaind_start "$d"
		fwchaind_stop
	done
	"$FILL" build-node "$small" "$small.keys" 1 10 1 60 >"$BENCH_TMP/dsmall.out" ||
		bench_die "cannot fill the minimal node's state"
	echo "filling a node's state with $DEVICES devices and $RELEASES releases over $PRODUCTS products through node_state_apply (bound ${MAX_BUILD_S} s)..."
	"$FILL" build-node "$large" "$large.keys" "$DEVICES" "$RELEASES" "$PRODUCTS" \
		"$MAX_BUILD_S" >"$BENCH_TMP/dlarge.out" || true # stopped at the bound: measure what was reached
	got_d=$(value devices "$BENCH_TMP/dlarge.out")
	got_r=$(value releases "$BENCH_TMP/dlarge.out")
	[ "$(value refused "$BENCH_TMP/dlarge.out")" = 0 ] || bench_die "the fill had refusals"
	[ "$got_r" = "$RELEASES" ] && [ -n "$got_d" ] && [ "$got_d" -gt 0 ] ||
		bench_die "the large state was not built (releases $got_r, devices $got_d)"
	# The producer signs ahead of the applier: keep the keys of the devices applied.
	head -n "$got_d" "$large.keys" >"$large.keys.applied"
	# The minimal node's one key, as many times: wrk's table is as large in both arms.
	awk -v k="$(head -n 1 "$small.keys")" -v n="$got_d" \
		'BEGIN { for (i = 0; i < n; i++) print k }' >"$small.keys.same"
	counter=$((RELEASES / PRODUCTS)) # every product's newest counter (RELEASES % PRODUCTS == 0)
	bytes=$(($(stat -c %s "$large/ledger.db") + $(stat -c %s "$large/ledger.db-wal" 2>/dev/null || echo 0)))

	NODE_CPU=0 fwchaind_start "$small" --threads 1
	s_port=$NODE_PORT
	S_PID=$NODE_PID
	NODE_CPU=0 fwchaind_start "$large" --threads 1
	l_port=$NODE_PORT
	L_PID=$NODE_PID
	k=$(head -n 1 "$small.keys")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$s_port/v1/updates?product=p0000&channel=stable&hw=rev-b&counter=10&device=$k")" = 200 ] ||
		bench_die "the minimal node does not answer its device's check-in"
	k=$(sed -n 2p "$large.keys.applied")
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$l_port/v1/updates?product=p0001&channel=stable&hw=rev-b&counter=$counter&device=$k")" = 200 ] ||
		bench_die "the large node does not answer a device's check-in"
	echo "3. HTTP check-in by registered devices: GET /v1/updates?...&device=KEY&counter=NEWEST (the answer: no update, the checkpoint note), a random device per request, fwchaind --threads 1 on CPU 0, wrk 64 connections on CPU 1 (bench/checkin_devices.lua), median of $ROUNDS x $SECS s"
	if [ "$got_d" -lt "$DEVICES" ]; then
		echo "   NOTE: the build stopped at its ${MAX_BUILD_S} s bound: figures are for the state reached"
	fi
	printf '   large node     %s devices, %s releases over %s products, built in %s s (%s tx/s)\n' \
		"$got_d" "$got_r" "$PRODUCTS" "$(value apply_seconds "$BENCH_TMP/dlarge.out")" \
		"$(value apply_per_s "$BENCH_TMP/dlarge.out")"
	printf '   ledger.db      %s MiB, %.0f bytes per device (the whole file / devices)\n' \
		"$(mib "$bytes")" "$(awk -v b="$bytes" -v d="$got_d" 'BEGIN { print b / d }')"
	echo "   cold: the large node just started (no device has checked in; its cache warms in the background)"
	dev_rounds "$s_port" "$small.keys.same" "$l_port" "$large.keys.applied" "$counter"
	printf '   warming        %s\n' \
		"$(sed -n 's/^fwchaind: device cache warmed: //p' "$large.log" | tail -n 1 | grep . || echo 'not finished (or not in this fwchaind)')"
	# The steady state of a fleet: every device has checked in since the last block that
	# changed devices (each device once, in turn, for at most WARM_S s).
	if [ "$WARM_S" -gt 0 ]; then
		wrk_devices "http://127.0.0.1:$l_port" "$large.keys.applied" "$PRODUCTS" "$counter" \
			"$WARM_S" 1
		printf '   warm-up        every device once on the large node: %s in %s s at %.0f req/s (non-2xx/errors %s)\n' \
			"$(sed -n 's/^warm: every device checked in: //p' "$BENCH_TMP/wrk.out")" "$WARM_S" \
			"$WRK_RPS" "$WRK_ERRORS"
		echo "   warm: every device checked in once since the node started"
		dev_rounds "$s_port" "$small.keys.same" "$l_port" "$large.keys.applied" "$counter"
	fi
	printf '   load average   %s (at the end of the rounds)\n' "$(cut -d ' ' -f 1-3 /proc/loadavg)"
	stop_pid "$S_PID"
	stop_pid "$L_PID"
}

# cpu_ticks PID: the process's user + system CPU time, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# dev_rounds S_PORT S_KEYS L_PORT L_KEYS L_COUNTER: ROUNDS alternating wrk runs against the
# minimal node (S_PID) and the large one (L_PID); prints the medians, the ratio and each node's
# CPU use during its runs (a node below 100 % was not the bottleneck: wrk was).
dev_rounds() {
	local s_rps=() l_rps=() s_p99=() l_p99=() s_err=0 l_err=0 s_cpu=0 l_cpu=0 t0 s_med l_med r
	local hz s_us l_us
	hz=$(getconf CLK_TCK)
	for _ in $(seq 1 "$ROUNDS"); do
		t0=$(cpu_ticks "$S_PID")
		wrk_devices "http://127.0.0.1:$1" "$2" 1 10
		s_cpu=$((s_cpu + $(cpu_ticks "$S_PID") - t0))
		s_rps+=("$WRK_RPS") s_p99+=("$WRK_P99_MS") s_err=$((s_err + WRK_ERRORS))
		t0=$(cpu_ticks "$L_PID")
		wrk_devices "http://127.0.0.1:$3" "$4" "$PRODUCTS" "$5"
		l_cpu=$((l_cpu + $(cpu_ticks "$L_PID") - t0))
		l_rps+=("$WRK_RPS") l_p99+=("$WRK_P99_MS") l_err=$((l_err + WRK_ERRORS))
	done
	s_med=$(printf '%s\n' "${s_rps[@]}" | median)
	l_med=$(printf '%s\n' "${l_rps[@]}" | median)
	r=$(ratio "$l_med" "$s_med")
	printf '   minimal node   %8.0f req/s  p99 %6.2f ms  node CPU %3.0f %%  (1 device, its key %s times; non-2xx/errors %s)\n' \
		"$s_med" "$(printf '%s\n' "${s_p99[@]}" | median)" \
		"$(awk -v t="$s_cpu" -v h="$hz" -v n="$ROUNDS" -v s="$SECS" 'BEGIN { print 100 * t / h / (n * s) }')" \
		"$(wc -l <"$2")" "$s_err"
	printf '   large node     %8.0f req/s  p99 %6.2f ms  node CPU %3.0f %%  (non-2xx/errors %s)\n' \
		"$l_med" "$(printf '%s\n' "${l_p99[@]}" | median)" \
		"$(awk -v t="$l_cpu" -v h="$hz" -v n="$ROUNDS" -v s="$SECS" 'BEGIN { print 100 * t / h / (n * s) }')" "$l_err"
	printf '   ratio          %8s  (target >= 0.80: %s)\n' "$r" "$(verdict "$r" 0.8)"
	# The node's CPU time per check-in: what each costs, whether or not wrk or another
	# process held the node below 100 % of its CPU.
	s_us=$(awk -v t="$s_cpu" -v h="$hz" -v s="$SECS" -v r="${s_rps[*]}" \
		'BEGIN { n = split(r, a, " "); for (i = 1; i <= n; i++) q += a[i] * s; printf "%.1f", 1e6 * t / h / q }')
	l_us=$(awk -v t="$l_cpu" -v h="$hz" -v s="$SECS" -v r="${l_rps[*]}" \
		'BEGIN { n = split(r, a, " "); for (i = 1; i <= n; i++) q += a[i] * s; printf "%.1f", 1e6 * t / h / q }')
	r=$(ratio "$s_us" "$l_us")
	printf '   node CPU per check-in: minimal %s us, large %s us; ratio minimal/large %s (target >= 0.80: %s)\n' \
		"$s_us" "$l_us" "$r" "$(verdict "$r" 0.8)"
}

# checkin_rate DB DEVICES MMAP_MIB: one 1 s round on CPU 0.
checkin_rate() {
	taskset -c 0 "$FILL" checkin "$1" "$2" 1 "$3" | sed -n 's/^checkins_per_s=//p'
}

case $PART in
devices) devices_part ;;
all) http_part; direct_part; devices_part ;;
both) http_part; direct_part ;;
http) http_part ;;
direct) direct_part ;;
*) bench_die "PART is devices, all, both, http or direct" ;;
esac
