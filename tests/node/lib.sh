# Shared helpers of the tests/cli/node_*.sh integration tests (sourced, not run). They start
# the real fwchaind on 127.0.0.1 with --port 0 and read the port it picked from its log, so
# there is no race for a "free" port; every wait is bounded; every node is stopped by its PID
# from an EXIT trap.
set -euo pipefail

: "${FWC_BIN:?FWC_BIN (the build directory) must be set}"
FWCHAIND="$FWC_BIN/fwchaind"
TMP=$(mktemp -d /tmp/fwc-node-test.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$TMP"/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}

# start_node NAME DATADIR [extra args...]: starts a dev fwchaind, sets NODE_PID and PORT.
start_node() {
	local name=$1 dir=$2
	shift 2
	start_fwchaind "$name" --dev --data "$dir" --port 0 --block-interval-ms 100 "$@"
}

# consortium_setup CHAIN BLOCK_MS CHECKPOINT_S: a genesis and a config for a one-validator
# chain CHAIN, in $TMP/genesis.json and $TMP/etc/{node.json,validator.key}: organisation
# "consortium" (admin: txtool key 1) and "acme" (admin: txtool key 10), the validator's
# Ed25519 seed 32 bytes of 0x77 (txtool key 119), 2 HTTP threads. Needs TX (the txtool); sets
# CHAIN, VNAME and VKEY.
consortium_setup() {
	CHAIN=$1
	VNAME="$CHAIN/v0"
	VKEY=$("$TX" pubkey 119 ed25519)
	cat >"$TMP/genesis.json" <<EOF
{"format": "fwchain-genesis/v1", "chain_id": "$CHAIN", "genesis_time": $(date +%s),
 "validators": [{"name": "$VNAME", "key": "$VKEY"}], "quorum": 1,
 "organisations": [
   {"id": "consortium", "name": "Consortium", "admin": {"name": "ops", "key": "$("$TX" pubkey 1)"}},
   {"id": "acme", "name": "ACME", "admin": {"name": "acme-admin", "key": "$("$TX" pubkey 10)"}}]}
EOF
	mkdir -p "$TMP/etc"
	printf 'ed25519-seed:%s\n' "$(printf '77%.0s' $(seq 32))" >"$TMP/etc/validator.key"
	chmod 600 "$TMP/etc/validator.key"
	cat >"$TMP/etc/node.json" <<EOF
{"format": "fwchaind-config/v1", "listen": "127.0.0.1:0", "validator_key": "validator.key",
 "block_interval_ms": $2, "checkpoint_interval_s": $3, "threads": 2}
EOF
}

# start_fwchaind NAME ARGS...: starts fwchaind with exactly ARGS (which must listen on
# 127.0.0.1 with port 0), sets NODE_PID, PORT and URL.
start_fwchaind() {
	local name=$1
	shift
	: >"$TMP/$name.log" # exists before the loop below reads it
	"$FWCHAIND" "$@" 2>"$TMP/$name.log" &
	NODE_PID=$!
	PIDS+=("$NODE_PID")
	PORT=""
	for _ in $(seq 1 100); do
		PORT=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' \
			"$TMP/$name.log" | tail -n 1)
		[ -n "$PORT" ] && break
		kill -0 "$NODE_PID" 2>/dev/null || fail "$name exited at start"
		sleep 0.1
	done
	[ -n "$PORT" ] || fail "$name did not start within 10 s"
	URL="http://127.0.0.1:$PORT"
	for _ in $(seq 1 50); do
		curl -s --max-time 2 "$URL/v1/health" >/dev/null && return 0
		sleep 0.1
	done
	fail "$name: /v1/health did not answer within 5 s"
}

# stop_node PID: SIGTERM, then wait at most 10 s for a clean exit (status 0).
stop_node() {
	local pid=$1
	kill -TERM "$pid"
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "node $pid did not stop within 10 s of SIGTERM"
	wait "$pid" || fail "node $pid exited with status $? after SIGTERM"
}

# http METHOD PATH [curl args...]: prints "STATUS BODY" on one line.
http() {
	local m=$1 p=$2
	shift 2
	curl -s --max-time 5 -X "$m" -o "$TMP/body" -w '%{http_code}' "$@" "$URL$p" \
		>"$TMP/status" || true
	echo "$(cat "$TMP/status") $(cat "$TMP/body" 2>/dev/null)"
}

# json FIELD: a top-level field of the JSON in $TMP/body (python3 is a test dependency).
json() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[int(k)] if isinstance(v,list) else v[k]
print(v)' "$TMP/body" "$1"
}

expect_status() { # expect_status WANT "STATUS BODY" WHAT
	[ "${2%% *}" = "$1" ] || fail "$3: want HTTP $1, got: $2"
}

# wait_committed ID: waits (at most 10 s) until GET /v1/txs/ID says committed.
wait_committed() {
	for _ in $(seq 1 100); do
		http GET "/v1/txs/$1" >/dev/null
		[ "$(json status 2>/dev/null || true)" = committed ] && return 0
		sleep 0.1
	done
	fail "tx $1 not committed within 10 s"
}
