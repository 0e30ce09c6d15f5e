#!/usr/bin/env bash
# GET /v1/accounts/{key} against a real `fwchaind --dev` on 127.0.0.1 (a free port the node
# picks itself, a temporary data directory, stopped by its PID; every wait bounded): a key
# that never sent, the admin (member of the genesis organisation), next_nonce counting pending
# transactions (two sends in a row, the second asking the node for its nonce while the first
# may still be pending), the committed nonce after the block, and 400 for malformed keys.
source "$(dirname "$0")/common.bash"

FWCHAIND="$(dirname "$FWC")/fwchaind"
[ -x "$FWCHAIND" ] || { echo "no fwchaind in $FWC_BIN: skipped"; exit 0; }
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 0; }
command -v curl >/dev/null || { echo "no curl: skipped"; exit 0; }

NODE_PID=""
stop_all() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
	rm -rf "$T"
}
trap stop_all EXIT

# A long block interval, so a transaction stays pending while the next one asks for its nonce.
"$FWCHAIND" --dev --data "$T/d" --port 0 --block-interval-ms 1500 2>"$T/node.log" &
NODE_PID=$!
PORT=""
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/node.log" | tail -n 1)
	[ -n "$PORT" ] && break
	kill -0 "$NODE_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$PORT" ] || { cat "$T/node.log" >&2; echo "FAIL: fwchaind did not start" >&2; exit 1; }
export FWCHAIN_NODE="http://127.0.0.1:$PORT"
ADMIN="$T/d/admin.keystore"
pubkey() { "$FWC" key show --json "$1" | sed 's/.*"public_key":"\([^"]*\)".*/\1/'; }
# get PATH: HTTP status in CODE, body in BODY.
get() {
	CODE=$(curl -s -o body.json -w '%{http_code}' --max-time 10 "$FWCHAIN_NODE$1")
	BODY=$(cat body.json)
}
# jf KEY: a field of BODY as JSON text (strings without quotes).
jf() { python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print(v if isinstance(v,str) else json.dumps(v))' "$1" <<<"$BODY"; }

ADMINPK=$(pubkey "$ADMIN")
"$FWC" keygen --out fresh.key "${KDF[@]}" >/dev/null
"$FWC" keygen --out ops.key "${KDF[@]}" >/dev/null
FRESH=$(pubkey fresh.key)

# A key that never sent: next 1, nothing committed, no membership.
get "/v1/accounts/$FRESH"
expect_eq "$CODE" 200 "fresh status"
expect_eq "$BODY" "{\"key\":\"$FRESH\",\"next_nonce\":1,\"last_committed_nonce\":0,\"pending\":0,\"org\":null,\"roles\":[]}" "fresh account"

# The admin of the dev genesis: an admin of its organisation.
get "/v1/accounts/$ADMINPK"
expect_eq "$CODE" 200 "admin status"
expect_eq "$(jf next_nonce)" 1 "admin next"
expect_eq "$(jf roles)" '["admin"]' "admin roles"
[ "$(jf org)" != None ] || fail "admin has no org: $BODY"

# Two sends without --nonce: the second asks while the first is pending (1.5 s blocks).
expect_rc 0 "$FWC" member add --member ops.key --role operator --key "$ADMIN"
expect_eq "$(field nonce)" 1 "first nonce from the node"
get "/v1/accounts/$ADMINPK"
if [ "$(jf last_committed_nonce)" = 0 ]; then # still pending (not yet in a block)
	expect_eq "$(jf next_nonce)" 2 "next counts the pending transaction"
	expect_eq "$(jf pending)" 1 "one pending"
fi
expect_rc 0 "$FWC" member add --member fresh.key --role auditor --key "$ADMIN" --wait 15
expect_eq "$(field nonce)" 2 "second nonce from the node"
grep -q "^status:      committed in block" <<<"$OUT" || fail "second not committed: $OUT"
get "/v1/accounts/$ADMINPK"
expect_eq "$(jf last_committed_nonce)" 2 "committed after the block"
expect_eq "$(jf next_nonce)" 3 "next after the block"
expect_eq "$(jf pending)" 0 "nothing pending"
get "/v1/accounts/$FRESH"
expect_eq "$(jf roles)" '["auditor"]' "the new member's role"

# Offline signing still needs --nonce; with it, it needs no node.
expect_err 2 "--no-submit needs --nonce" "$FWC" member add --member ops.key --role release --key "$ADMIN" --no-submit --out x.cbor --chain-id c
expect_absent x.cbor

# Malformed keys: 400 bad_key, the message names the key.
for bad in "bip340:zz" "nokey" "rsa:00" "bip340:$(printf '%063d' 0)g"; do
	get "/v1/accounts/$bad"
	expect_eq "$CODE" 400 "status for $bad"
	expect_eq "$(jf code)" bad_key "code for $bad"
	grep -qF "'$bad' is not a public key" <<<"$(jf message)" || fail "message for $bad: $BODY"
done

done_testing
