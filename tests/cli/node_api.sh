#!/usr/bin/env bash
# fwchaind end to end on 127.0.0.1: first start creates a genesis and keystore, every endpoint
# answers, refusals are 4xx JSON {code, message} (404, 405, 413, malformed tx, bad ids), a
# submitted transaction gets committed with an inclusion proof that an independent RFC 9162
# verifier (python, below) accepts against the checkpoint's root, ETags give 304, SIGTERM stops
# cleanly, and a restart serves the same chain.
source "$FWC_SRC/tests/node/lib.sh"

D="$TMP/data"
start_node n1 "$D" --checkpoint-interval-s 1
grep -q "admin keystore: $D/admin.keystore (passphrase $D/admin.pass)" "$TMP/n1.log" ||
	fail "first start does not print the admin keystore path"
for f in admin.keystore admin.pass validator.key; do
	[ "$(stat -c %a "$D/$f")" = 600 ] || fail "$f is not mode 0600"
done

r=$(http GET /v1/health); expect_status 200 "$r" health
chain=$(json chain_id)
[[ "$chain" =~ ^fwchain-dev-[0-9a-f]{8}$ ]] || fail "chain id '$chain'"
grep -q "\"chain_id\": \"$chain\"" "$D/genesis.json" || fail "genesis.json lacks the chain id"

r=$(http GET /v1/checkpoint); expect_status 200 "$r" checkpoint
head -n 1 "$TMP/body" | grep -qx "$chain" || fail "checkpoint origin is not the chain id"
grep -q "^— $chain/validator-0 " "$TMP/body" || fail "checkpoint has no validator cosignature"

# Refusals: always JSON with the stable code.
r=$(http GET /v1/nope); expect_status 404 "$r" "unknown route"
[ "$(json code)" = not_found ] || fail "404 body: $r"
r=$(http DELETE /v1/health); expect_status 405 "$r" "wrong method"
[ "$(json code)" = method_not_allowed ] || fail "405 body: $r"
head -c 70000 /dev/zero >"$TMP/big"
r=$(http POST /v1/txs --data-binary @"$TMP/big"); expect_status 413 "$r" "oversize body"
[ "$(json code)" = too_large ] || fail "413 body: $r"
r=$(http POST /v1/txs --data-binary @/dev/null); expect_status 400 "$r" "empty tx"
[ "$(json code)" = malformed_tx ] && [ -n "$(json message)" ] || fail "malformed tx body: $r"
r=$(http GET /v1/txs/xyz); expect_status 400 "$r" "bad tx id"
[ "$(json code)" = bad_id ] || fail "bad id body: $r"
r=$(http GET /v1/txs/$(printf '0%.0s' $(seq 64))); expect_status 404 "$r" "unknown tx"
[ "$(json code)" = unknown_tx ] || fail "unknown tx body: $r"
r=$(http GET /v1/blocks/01); expect_status 400 "$r" "leading zero height"
r=$(http GET /v1/blocks/999999); expect_status 404 "$r" "missing block"
r=$(http GET "/v1/proofs/consistency?from=2&to=1"); expect_status 400 "$r" "bad range"
r=$(http GET "/v1/proofs/consistency?from=0&to=999999"); expect_status 400 "$r" "range past log"
r=$(http GET "/v1/bad%zz"); expect_status 400 "$r" "bad escape"

# A transaction of the genesis admin (its key from the dev keystore): 202 with its id (SHA-256
# of the bytes), then committed with a proof.
TXTOOL="$FWC_BIN/test_node_txtool"
SEED=$("$TXTOOL" keystore-secret "$D/admin.keystore" "$D/admin.pass") || fail "keystore"
"$TXTOOL" tx "$chain" "$SEED" 1 member-add 50 3 >"$TMP/tx1"
want=$(sha256sum "$TMP/tx1" | cut -c1-64)
r=$(http POST /v1/txs --data-binary @"$TMP/tx1" -H 'Content-Type: application/cbor')
expect_status 202 "$r" "submit"
[ "$(json id)" = "$want" ] || fail "tx id $(json id), want $want"
r=$(http POST /v1/txs --data-binary @"$TMP/tx1"); expect_status 409 "$r" "duplicate"
[ "$(json code)" = duplicate ] || fail "duplicate body: $r"

# Refusals of bad transactions name what was wrong.
printf 'not cbor at all' >"$TMP/junk"
r=$(http POST /v1/txs --data-binary @"$TMP/junk"); expect_status 400 "$r" "malformed tx"
[ "$(json code)" = malformed_tx ] || fail "malformed body: $r"
json message | grep -q "byte 0" || fail "malformed tx message does not say where: $r"
"$TXTOOL" make fwchain-dev-00000000 "$SEED" 2 >"$TMP/txc"
r=$(http POST /v1/txs --data-binary @"$TMP/txc"); expect_status 400 "$r" "other chain"
[ "$(json code)" = chain_id_mismatch ] || fail "chain id body: $r"
"$TXTOOL" sign-bad "$chain" "$SEED" 2 >"$TMP/txs"
r=$(http POST /v1/txs --data-binary @"$TMP/txs"); expect_status 400 "$r" "bad signature"
[ "$(json code)" = bad_signature ] || fail "bad signature body: $r"
"$TXTOOL" make "$chain" "$SEED" 1 2 "replayed nonce" >"$TMP/txr"
r=$(http POST /v1/txs --data-binary @"$TMP/txr"); expect_status 400 "$r" "nonce replay"
[ "$(json code)" = nonce_replay ] || fail "replay body: $r"
"$TXTOOL" make "$chain" "$SEED" 5 >"$TMP/txg"
r=$(http POST /v1/txs --data-binary @"$TMP/txg"); expect_status 400 "$r" "nonce gap"
[ "$(json code)" = nonce_gap ] || fail "gap body: $r"
# A key nobody registered is refused at once (403), before any block.
"$TXTOOL" tx "$chain" 99 1 member-add 52 3 >"$TMP/txu"
r=$(http POST /v1/txs --data-binary @"$TMP/txu"); expect_status 403 "$r" "unknown sender"
[ "$(json code)" = unknown_sender ] || fail "unknown sender body: $r"
wait_committed "$want"
python3 - "$TMP/body" "$TMP/tx1" <<'PY' || fail "inclusion proof does not verify"
import base64, hashlib, json, sys
r = json.load(open(sys.argv[1])); tx = open(sys.argv[2], 'rb').read()
inc = r["inclusion"]; idx, size = inc["leaf_index"], inc["tree_size"]
h = lambda b: hashlib.sha256(b).digest()
leaf = h(b"\0" + tx)
assert base64.b64decode(inc["leaf_hash"]) == leaf
# RFC 9162 section 2.1.3.2
fn, sn, acc = idx, size - 1, leaf
for p in map(base64.b64decode, inc["hashes"]):
    assert sn != 0
    if fn & 1 or fn == sn:
        acc = h(b"\1" + p + acc)
        if not fn & 1:
            while fn & 1 == 0 and fn != 0:
                fn >>= 1; sn >>= 1
    else:
        acc = h(b"\1" + acc + p)
    fn >>= 1; sn >>= 1
assert sn == 0
lines = inc["checkpoint"].split("\n")
assert int(lines[1]) == size and base64.b64decode(lines[2]) == acc
PY

# Blocks are immutable: ETag, then 304.
r=$(http GET /v1/blocks/0); expect_status 200 "$r" "block 0"
[ "$(json log_size)" = 0 ] && [ "$(json tx_count)" = 0 ] || fail "genesis block: $r"
etag=$(curl -s -D - -o /dev/null "$URL/v1/blocks/0" | tr -d '\r' | sed -n 's/^ETag: //Ip')
[ -n "$etag" ] || fail "block has no ETag"
r=$(http GET /v1/blocks/0 -H "If-None-Match: $etag"); expect_status 304 "$r" "If-None-Match"

# Keep-alive: two requests, one connection.
curl -sv "$URL/v1/health" "$URL/v1/health" 2>&1 >/dev/null | grep -q "Re-using existing connection" ||
	fail "the second request did not reuse the connection"

# An idle node still makes fresh checkpoints (interval 1 s).
h1=$(http GET /v1/health >/dev/null; json height)
sleep 2.5
h2=$(http GET /v1/health >/dev/null; json height)
[ "$h2" -gt "$h1" ] || fail "no idle checkpoint: height $h1 then $h2"

stop_node "$NODE_PID"
grep -q "SIGTERM received, stopping" "$TMP/n1.log" || fail "no stop message"

# Restart: same chain, same log, the committed transaction still there, no new genesis.
start_node n2 "$D"
grep -q "created genesis" "$TMP/n2.log" && fail "restart made a new genesis"
r=$(http GET /v1/health); expect_status 200 "$r" "health after restart"
[ "$(json chain_id)" = "$chain" ] || fail "chain id changed on restart"
[ "$(json log_size)" = 1 ] || fail "log size after restart: $r"
r=$(http GET "/v1/txs/$want"); [ "$(json status)" = committed ] || fail "tx lost: $r"
# The sender's next nonce survives the restart: 1 is a replay, 2 is accepted.
r=$(http POST /v1/txs --data-binary @"$TMP/txr"); [ "$(json code)" = nonce_replay ] ||
	fail "replay after restart: $r"
"$TXTOOL" tx "$chain" "$SEED" 2 member-add 51 3 >"$TMP/tx2"
r=$(http POST /v1/txs --data-binary @"$TMP/tx2"); expect_status 202 "$r" "nonce 2 after restart"
stop_node "$NODE_PID"
echo "node_api: 1 passed, 0 failed"
