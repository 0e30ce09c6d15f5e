#!/usr/bin/env bash
# fwchaind refuses to start, with a clear one-line message and a non-zero status, when: the
# port is in use, the data directory is used by another node, the directory is someone else's,
# genesis.json is corrupt, ledger.db is missing, the validator key is readable by others, or the
# options are wrong.
source "$FWC_SRC/tests/node/lib.sh"

# expect_refusal WANT-REGEX args...: fwchaind must exit non-zero within 10 s saying WANT.
expect_refusal() {
	local want=$1 st=0
	shift
	timeout 10 "$FWCHAIND" "$@" 2>"$TMP/err.log" >/dev/null || st=$?
	[ "$st" -ne 0 ] && [ "$st" -ne 124 ] || fail "fwchaind $* exited $st, want a refusal"
	grep -Eq -e "$want" "$TMP/err.log" || fail "fwchaind $*: want '$want', got: $(cat "$TMP/err.log")"
}

D="$TMP/data"
start_node n1 "$D"
expect_refusal "cannot bind 127\.0\.0\.1:$PORT: Address already in use" \
	--dev --data "$TMP/other" --port "$PORT"
expect_refusal "in use by another fwchaind" --dev --data "$D" --port 0
stop_node "$NODE_PID"

expect_refusal "give --dev, or --genesis FILE and --config FILE" --data "$TMP/x"
expect_refusal "not both" --dev --genesis "$TMP/g.json" --config "$TMP/c.json" --data "$TMP/x"
expect_refusal "go together" --genesis "$TMP/g.json" --data "$TMP/x"
expect_refusal "--block-max-txs wants" --dev --data "$TMP/x" --block-max-txs 0
expect_refusal "--data DIR is required" --dev
expect_refusal "--port wants" --dev --data "$TMP/x" --port 70000
expect_refusal "--block-interval-ms wants" --dev --data "$TMP/x" --block-interval-ms 0

mkdir -p "$TMP/foreign" && echo hello >"$TMP/foreign/notes.txt"
expect_refusal "not an fwchaind data directory" --dev --data "$TMP/foreign" --port 0
[ -f "$TMP/foreign/notes.txt" ] || fail "a foreign directory was touched"

cp -a "$D" "$TMP/perm" && chmod 644 "$TMP/perm/validator.key"
expect_refusal "validator key .* accessible by others" --dev --data "$TMP/perm" --port 0

cp -a "$D" "$TMP/badgen" && echo '{"format": ' >"$TMP/badgen/genesis.json"
expect_refusal "genesis.json: invalid JSON at line" --dev --data "$TMP/badgen" --port 0

cp -a "$D" "$TMP/noledger" && rm "$TMP/noledger/ledger.db"
expect_refusal "ledger.db is missing" --dev --data "$TMP/noledger" --port 0

cp -a "$D" "$TMP/badledger" && head -c 8192 /dev/urandom >"$TMP/badledger/ledger.db" &&
	rm -f "$TMP/badledger/ledger.db-wal" "$TMP/badledger/ledger.db-shm"
expect_refusal "not an SQLite database or is corrupt" --dev --data "$TMP/badledger" --port 0

# Another chain's ledger beside this genesis.
start_node n2 "$TMP/chain2"
stop_node "$NODE_PID"
cp -a "$D" "$TMP/mixed" && cp "$TMP/chain2/ledger.db" "$TMP/mixed/ledger.db" &&
	rm -f "$TMP/mixed/ledger.db-wal" "$TMP/mixed/ledger.db-shm"
expect_refusal "belongs to chain" --dev --data "$TMP/mixed" --port 0

# The original directory still starts.
start_node n3 "$D"
stop_node "$NODE_PID"
echo "node_errors: 1 passed, 0 failed"
