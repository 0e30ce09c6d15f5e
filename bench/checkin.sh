#!/usr/bin/env bash
# Device check-in rate of fwchaind (GET /v1/updates, answered from its cache) against nginx
# serving a static file of the same size, both on CPU 0 with one worker, wrk on CPU 1 with 64
# keep-alive connections for a bounded time each, in the same run. Target: fwchaind >= 0.5 x
# nginx requests per second. Also reports p99 latency from wrk --latency.
#
# The check-in needs a ledger with a device and a release for it: bench_node_txload
# checkin-setup makes them with the node's admin key. The check-in URL is CHECKIN_URL with
# {device}, {product}, {hwid}, {channel} and {release} replaced (default
# "/v1/updates?product={product}&channel={channel}&hw={hwid}&counter=0&device={device}": a
# device below the release, so the answer is the proof bundle, served from the node's cache).
# When the node has no state machine or no /v1/updates, the check-in part is skipped with a
# message. The same comparison also runs on GET /v1/checkpoint (a constant answer between
# blocks: the HTTP layer alone) and, with a state, on GET /v1/releases/{id} (a query read from
# SQLite on every request), each clearly labelled as not the check-in.
#
# Usage: bench/checkin.sh [BUILD_DIR]   (default build/release)
# Environment: FWCHAIND (default BUILD_DIR/fwchaind), CHECKIN_URL, SECS (per wrk run, default
# 10), CONNS (default 64).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

BIN=${1:-build/release}
FWCHAIND=${FWCHAIND:-$BIN/fwchaind}
LOAD=$BIN/bench_node_txload
SECS=${SECS:-10}
CONNS=${CONNS:-64}
CHECKIN_URL=${CHECKIN_URL:-"/v1/updates?product={product}&channel={channel}&hw={hwid}&counter=0&device={device}"}
for b in "$FWCHAIND" "$LOAD"; do
	[ -x "$b" ] || { echo "bench/checkin.sh: SKIP: $b not built (cmake --preset release &&" \
		"cmake --build build/release)"; exit 0; }
done
command -v wrk >/dev/null || { echo "bench/checkin.sh: SKIP: wrk not installed" \
	"(scripts/install-deps.sh)"; exit 0; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
	{ echo "bench/checkin.sh: SKIP: nginx not installed (scripts/install-deps.sh)"; exit 0; }
[ "$(nproc)" -ge 2 ] || { echo "bench/checkin.sh: SKIP: needs 2 CPUs"; exit 0; }
bench_tmp

# compare LABEL PATH: fwchaind's answer to PATH (fetched once) as a static file for nginx, then
# wrk against fwchaind and against nginx.
compare() {
	local label=$1 path=$2 www=$BENCH_TMP/www size port f_rps f_p99 n_rps n_p99 r
	mkdir -p "$www"
	curl -s -o "$www/answer" "http://127.0.0.1:$NODE_PORT$path"
	size=$(stat -c %s "$www/answer")
	wrk_run "http://127.0.0.1:$NODE_PORT$path" "$CONNS" "$SECS" 1
	f_rps=$WRK_RPS f_p99=$WRK_P99_MS f_err=$WRK_ERRORS
	port=$(free_port)
	nginx_start "$www" "$port" 0
	wrk_run "http://127.0.0.1:$port/answer" "$CONNS" "$SECS" 1
	n_rps=$WRK_RPS n_p99=$WRK_P99_MS
	nginx_stop
	r=$(ratio "$f_rps" "$n_rps")
	printf '%s: %s bytes, wrk %s connections x %s s, servers on CPU 0, wrk on CPU 1\n' \
		"$label" "$size" "$CONNS" "$SECS"
	printf '  fwchaind  %9.0f req/s  p99 %7.2f ms  (errors %s)\n' "$f_rps" "$f_p99" "$f_err"
	printf '  nginx     %9.0f req/s  p99 %7.2f ms\n' "$n_rps" "$n_p99"
	printf '  ratio     %9s  (target >= 0.50: %s)\n' "$r" "$(verdict "$r" 0.5)"
}

dir=$BENCH_TMP/node
NODE_CPU=0 fwchaind_start "$dir" --threads 1 --block-interval-ms 100

status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NODE_PORT/v1/orgs")
checkin=""
if [ "$status" != 200 ]; then
	echo "SKIP check-in: this fwchaind runs no state machine (GET /v1/orgs: $status)"
elif ! taskset -c 1 "$LOAD" checkin-setup "$NODE_PORT" "$dir" >"$BENCH_TMP/setup" \
	2>"$BENCH_TMP/setup.err"; then
	cat "$BENCH_TMP/setup.err" >&2
	echo "SKIP check-in: could not register a device and a release"
else
	checkin=$CHECKIN_URL
	for k in device product hwid channel release; do
		v=$(sed -n "s/^$k=//p" "$BENCH_TMP/setup")
		checkin=${checkin//\{$k\}/$v}
	done
	body=$BENCH_TMP/checkin.body
	code=$(curl -s -o "$body" -w '%{http_code}' "http://127.0.0.1:$NODE_PORT$checkin")
	if [ "$code" != 200 ]; then
		echo "SKIP check-in: GET $checkin answers $code: $(head -c 300 "$body")"
		[ "$code" = 404 ] && grep -q '"not_found"' "$body" &&
			echo "      (no /v1/updates endpoint in this fwchaind yet)"
		checkin=""
	else
		curl -s -o /dev/null "http://127.0.0.1:$NODE_PORT$checkin" # warm the cache
	fi
fi
if [ -n "$checkin" ]; then
	compare "check-in GET ${checkin%%\?*} (cached answer)" "$checkin"
fi
compare "HTTP layer only (NOT the check-in): GET /v1/checkpoint" /v1/checkpoint
# With a state, also one query endpoint read from SQLite on every request (no cache): what a
# dashboard or a seed-style client polling a release costs.
if [ -s "$BENCH_TMP/setup" ]; then
	compare "query API (uncached, NOT the check-in): GET /v1/releases/{id}" \
		"/v1/releases/$(sed -n 's/^release=//p' "$BENCH_TMP/setup")"
fi
fwchaind_stop
