#!/usr/bin/env bash
# The whole release path over HTTP against a real fwchaind in non-dev mode (--genesis, --config,
# on 127.0.0.1, stopped by PID, every wait bounded), and the device check-in:
# - a consortium genesis written here (two organisations, one validator whose key this test
#   holds), a configuration file with a relative validator key path;
# - the acme admin adds a release member and an operator, registers a product with a 2-of-3
#   root key set and a 2-of-3 release key set; the release member publishes a RELEASE signed by
#   2 of the 3 release keys;
# - GET /v1/updates returns a CBOR bundle that fwc_bundle_verify (test_node_txtool
#   verify-bundle) accepts against the genesis validator key, with the key-set registration as
#   its extra; ETag and If-None-Match (304); a device already at the release's counter, another
#   hardware id, channel or product get the checkpoint note ("no update"); bad parameters give
#   400 bad_parameter naming the parameter;
# - role refusals: an operator cannot publish (403 role_required at submission); a release
#   signed by one key of a 2-of-3 set is logged as failed (threshold_not_met);
# - a root rotation and a release set rotation: the next release's bundle carries both, in
#   order; revoking that release makes the check-in offer the previous one again;
# - a new block changes the bundle (new ETag) and it still verifies; keep-alive works;
# - restarts: with a genesis of another chain (refused, names both chains), with a quorum the
#   single validator cannot reach (refused), and with the right genesis (same log).
source "$FWC_SRC/tests/node/lib.sh"
TX="$FWC_BIN/test_node_txtool"

consortium_setup acme-fleet-test 100 3600
D="$TMP/data"
# The releases below name made-up CIDs: let the node accept them without their content.
start_fwchaind n1 --genesis "$TMP/genesis.json" --config "$TMP/etc/node.json" --data "$D" \
	--no-content-check
grep -q "new data directory $D for chain $CHAIN" "$TMP/n1.log" || fail "first start message"
r=$(http GET /v1/health); [ "$(json chain_id)" = "$CHAIN" ] || fail "health: $r"

# submit NAME ARGS...: make a transaction with txtool into $TMP/NAME.tx, POST it, want 202.
submit() {
	local name=$1
	shift
	"$TX" tx "$CHAIN" "$@" >"$TMP/$name.tx" || fail "txtool $*"
	r=$(http POST /v1/txs --data-binary @"$TMP/$name.tx")
	expect_status 202 "$r" "submit $name"
	eval "ID_${name//-/_}=\$(json id)"
}
# wait_status ID WANT [CODE]: GET /v1/txs/ID until it is no longer pending (10 s at most).
wait_status() {
	local st=""
	for _ in $(seq 1 100); do
		http GET "/v1/txs/$1" >/dev/null
		st=$(json status 2>/dev/null || true)
		[ "$st" != pending ] && break
		sleep 0.1
	done
	[ "$st" = "$2" ] || fail "tx $1: status '$st', want '$2': $(cat "$TMP/body")"
	[ -z "${3:-}" ] || [ "$(json code)" = "$3" ] || fail "tx $1: code $(json code), want $3"
}
checkin() { # checkin QUERY [curl args...]: GET /v1/updates?QUERY into $TMP/body, headers $TMP/hdr
	local q=$1
	shift
	curl -s --max-time 5 -D "$TMP/hdr" -o "$TMP/body" -w '%{http_code}' "$@" \
		"$URL/v1/updates?$q" >"$TMP/status" || true
	cat "$TMP/status"
}
header() { tr -d '\r' <"$TMP/hdr" | sed -n "s/^$1: //Ip"; }
verify() { # verify [EXPECTED-TX-FILE]: the bundle in $TMP/body, against the genesis key
	cp "$TMP/body" "$TMP/bundle.cbor"
	"$TX" verify-bundle "$TMP/bundle.cbor" "$CHAIN" "$VNAME" "$VKEY" 1 "$@" >"$TMP/verify.txt" ||
		fail "bundle does not verify: $(cat "$TMP/verify.txt")"
}

# --- the release path ---
submit add-rel 10 1 member-add 11 2    # release role
submit add-op 10 2 member-add 12 3     # operator
submit product 10 3 product-register thermo Thermostat 2 21,22,23
submit relset 10 4 keyset-register thermo 2 31,32,33 21,22
for t in add-rel add-op product relset; do wait_status "$(eval echo "\$ID_${t//-/_}")" committed; done
submit rel5 11 1 release thermo stable 5 rev-b,rev-c 31,33
wait_status "$ID_rel5" committed

# --- check-in: the bundle, verified against the genesis validator key ---
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=0')" = 200 ] || fail "check-in"
[ "$(header Content-Type)" = application/cbor ] || fail "content type $(header Content-Type)"
verify "$TMP/rel5.tx"
grep -q "^extras 1$" <(sed -n 's/.* \(extras [0-9]*\)$/\1/p' "$TMP/verify.txt") ||
	fail "want one extra: $(cat "$TMP/verify.txt")"
grep -q "^extra 1: keyset-register$" "$TMP/verify.txt" || fail "extra: $(cat "$TMP/verify.txt")"
etag=$(header ETag)
[[ "$etag" =~ ^\"u-[0-9a-f]{32}\"$ ]] || fail "ETag '$etag'"
[ "$(checkin 'product=thermo&channel=stable&hw=rev-c&counter=4')" = 200 ] || fail "rev-c"
[ "$(header Content-Type)" = application/cbor ] || fail "rev-c gets the release too"
# The bundle carries the newest checkpoint, and this node makes an idle one every 2 s: when one
# lands between taking the ETag and asking with it, 200 with a new ETag is the right answer, so
# take a fresh ETag and ask again (bounded).
got304=0
for _ in 1 2 3 4 5; do
	[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=0' -H "If-None-Match: $etag")" = 304 ] &&
		{ got304=1; break; }
	[ "$(header ETag)" != "$etag" ] || fail "200 with the same ETag as If-None-Match"
	etag=$(header ETag)
done
[ "$got304" = 1 ] || fail "If-None-Match did not give 304"
# No update: the newest checkpoint, as text.
for q in 'product=thermo&channel=stable&hw=rev-b&counter=5' \
	'product=thermo&channel=stable&hw=rev-z&counter=0' \
	'product=thermo&channel=beta&hw=rev-b&counter=0' 'product=nope&channel=stable&hw=x&counter=0'; do
	[ "$(checkin "$q")" = 200 ] || fail "no-update check-in $q"
	[[ "$(header Content-Type)" == text/plain* ]] || fail "$q: $(header Content-Type)"
	[ "$(head -n 1 "$TMP/body")" = "$CHAIN" ] || fail "$q: not a checkpoint: $(cat "$TMP/body")"
	grep -q "^— $VNAME " "$TMP/body" || fail "$q: checkpoint not cosigned"
done
# Bad parameters name themselves.
badparam() { # QUERY PARAM
	[ "$(checkin "$1")" = 400 ] || fail "$1: want 400"
	[ "$(json code)" = bad_parameter ] && [ "$(json parameter)" = "$2" ] ||
		fail "$1: $(cat "$TMP/body")"
}
badparam 'channel=stable&hw=rev-b&counter=0' product
badparam 'product=Thermo&channel=stable&hw=rev-b&counter=0' product
badparam 'product=thermo&hw=rev-b&counter=0' channel
badparam 'product=thermo&channel=stable&hw=rev%20b&counter=0' hw
badparam 'product=thermo&channel=stable&hw=rev-b&counter=-1' counter
badparam 'product=thermo&channel=stable&hw=rev-b&counter=007' counter
badparam 'product=thermo&channel=stable&hw=rev-b&counter=0&device=nokey' device
# A well-formed key of no registered device: 404 unknown_device (rules: tests/cli/node_rules.sh).
[ "$(checkin "product=thermo&channel=stable&hw=rev-b&counter=0&device=$("$TX" pubkey 40)")" = 404 ] &&
	[ "$(json code)" = unknown_device ] || fail "an unknown device: $(cat "$TMP/body")"

# --- role refusals ---
"$TX" tx "$CHAIN" 12 1 release thermo stable 6 rev-b 31,32 >"$TMP/op-rel.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/op-rel.tx"); expect_status 403 "$r" "operator publishes"
[ "$(json code)" = role_required ] || fail "operator publish: $r"
json message | grep -q "needs role release" || fail "role message: $r"
"$TX" tx "$CHAIN" 12 1 keyset-rotate thermo 2 2 1 34 21,22 >"$TMP/op-rot.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/op-rot.tx"); expect_status 403 "$r" "operator rotates"
submit rel6 11 2 release thermo stable 6 rev-b 31 # one signature of a 2-of-3 set
wait_status "$ID_rel6" failed threshold_not_met
[ -n "$(json message)" ] || fail "failed tx has no message"
# A failed release is in the log but not offered.
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=5')" = 200 ] &&
	[[ "$(header Content-Type)" == text/plain* ]] || fail "a failed release is offered"

# --- rotations: root set v2 (signed by 2 old root keys and the new one), release set v2 ---
submit rootrot 10 5 keyset-rotate thermo 1 2 1 24,25 21,22,24
submit relrot 10 6 keyset-rotate thermo 2 2 1 34,35 24
wait_status "$ID_rootrot" committed
wait_status "$ID_relrot" committed
submit rel7 11 3 release thermo stable 7 rev-b 34
wait_status "$ID_rel7" committed
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=5')" = 200 ] || fail "check-in 7"
[ "$(header Content-Type)" = application/cbor ] || fail "release 7 not offered"
verify "$TMP/rel7.tx"
grep -q "extras 2$" "$TMP/verify.txt" && grep -q "^extra 1: keyset-rotate$" "$TMP/verify.txt" &&
	grep -q "^extra 2: keyset-rotate$" "$TMP/verify.txt" || fail "rotation chain: $(cat "$TMP/verify.txt")"
python3 - "$TMP/bundle.cbor" "$TMP/rootrot.tx" "$TMP/relrot.tx" <<'PY' || fail "extras are not the rotations, in order"
import sys
b, root, rel = (open(p, 'rb').read() for p in sys.argv[1:])
assert b.find(root) > 0 and b.find(rel) > b.find(root)
PY

# --- revocation: release 7 is no longer offered; release 5 is again ---
rid7=$("$TX" release-id thermo stable 7 rev-b)
submit revoke7 11 4 release-revoke "$rid7"
wait_status "$ID_revoke7" committed
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=0')" = 200 ] || fail "after revoke"
verify "$TMP/rel5.tx"
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=5')" = 200 ] &&
	[[ "$(header Content-Type)" == text/plain* ]] || fail "a revoked release is offered"

# --- a new checkpoint (a block with an unrelated transaction) makes a new bundle ---
checkin 'product=thermo&channel=stable&hw=rev-b&counter=0' >/dev/null
e1=$(header ETag)
submit audit 10 7 member-add 13 5
wait_status "$ID_audit" committed
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=0' -H "If-None-Match: $e1")" = 200 ] ||
	fail "the bundle did not change with the checkpoint"
[ "$(header ETag)" != "$e1" ] || fail "same ETag after a new checkpoint"
verify "$TMP/rel5.tx"

# Keep-alive: two check-ins, one connection.
curl -sv "$URL/v1/updates?product=thermo&channel=stable&hw=rev-b&counter=0" \
	"$URL/v1/updates?product=thermo&channel=stable&hw=rev-b&counter=0" 2>&1 >/dev/null |
	grep -q "Re-using existing connection" || fail "check-ins do not keep the connection"

stop_node "$NODE_PID"
size=$(sed -n 2p <(curl -s "$URL/v1/checkpoint" 2>/dev/null) || true)

# --- restarts ---
sed "s/\"$CHAIN\"/\"other-chain\"/" "$TMP/genesis.json" >"$TMP/other.json"
st=0
timeout 10 "$FWCHAIND" --genesis "$TMP/other.json" --config "$TMP/etc/node.json" --data "$D" \
	2>"$TMP/err.log" || st=$?
[ "$st" = 1 ] || fail "another chain's genesis: exit $st"
grep -q "is for chain 'other-chain' but data directory $D holds chain '$CHAIN'" "$TMP/err.log" ||
	fail "wrong genesis message: $(cat "$TMP/err.log")"
python3 - "$TMP/genesis.json" "$TMP/quorum2.json" "$("$TX" pubkey 120 ed25519)" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["validators"].append({"name": "second", "key": sys.argv[3]}); g["quorum"] = 2
json.dump(g, open(sys.argv[2], "w"))
PY
st=0
timeout 10 "$FWCHAIND" --genesis "$TMP/quorum2.json" --config "$TMP/etc/node.json" \
	--data "$TMP/q2" 2>"$TMP/err.log" || st=$?
[ "$st" = 1 ] && grep -q "needs 2 of its 2 validators" "$TMP/err.log" ||
	fail "quorum 2: exit $st: $(cat "$TMP/err.log")"
start_fwchaind n2 --genesis "$TMP/genesis.json" --config "$TMP/etc/node.json" --data "$D" \
	--no-content-check
grep -q "new data directory" "$TMP/n2.log" && fail "restart made a new directory"
[ "$(checkin 'product=thermo&channel=stable&hw=rev-b&counter=0')" = 200 ] || fail "after restart"
verify "$TMP/rel5.tx"
stop_node "$NODE_PID"
echo "node_updates: 1 passed, 0 failed"
