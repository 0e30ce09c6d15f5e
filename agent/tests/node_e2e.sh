#!/usr/bin/env bash
# The fwagent tool against a real fwchaind (consortium genesis, one validator, on 127.0.0.1,
# stopped by PID, every wait bounded): the device verifies the node's own proof bundles.
# - releases published with test_node_txtool (product with a 2-of-3 root set, a release set
#   registered by two root keys, release 5 signed by two release keys); the device, provisioned
#   with a trust file made by `fwchain trust create` (the validator's key, the product's root
#   keys), checks in, verifies the bundle (key-set chain from the root keys included), accepts
#   the offer and records the node's checkpoint in the same commit; the node has no content for
#   the release's made-up CID, so the download fails and that event is queued (not the refusal
#   of anything signed);
# - after a root rotation and a release-set rotation, release 7's bundle carries both
#   statements, and the device follows them;
# - a device already at the newest release gets the checkpoint note ("no update") and records it;
# - a device provisioned with another validator key refuses the node's checkpoint (quorum).
# - the node answers a check-in only for registered devices (404 unknown_device otherwise,
#   which the device treats as a failed check-in): an unregistered device gets no offer; once
#   an operator (a `fwchain keygen` keystore made a member with txtool) registered the devices
#   with `fwchain device register`, their events go out, land on the ledger (GET /v1/events)
#   and leave the queue, with the device's nonces 1, 2, ...
source "$FWC_SRC/tests/node/lib.sh"
TX="$FWC_BIN/test_node_txtool"
AG="$FWC_BIN/fwagent"
CLI="$FWC_BIN/fwchain"

consortium_setup agent-e2e-test 100 2
# The releases name made-up CIDs (the download is meant to fail): accept them without content.
start_fwchaind n1 --genesis "$TMP/genesis.json" --config "$TMP/etc/node.json" --data "$TMP/data" \
	--no-content-check

submit() { # submit NAME SEED NONCE KIND ARGS...: POST a txtool transaction, wait until committed
	local name=$1 id
	shift
	"$TX" tx "$CHAIN" "$@" >"$TMP/$name.tx" || fail "txtool $*"
	r=$(http POST /v1/txs --data-binary @"$TMP/$name.tx")
	expect_status 202 "$r" "submit $name"
	id=$(json id)
	wait_committed "$id"
}
submit add-rel 10 1 member-add 11 2
submit product 10 2 product-register thermo Thermostat 2 21,22,23
submit relset 10 3 keyset-register thermo 2 31,32,33 21,22
submit rel5 11 1 release thermo stable 5 rev-b,rev-c 31,33

roots="$("$TX" pubkey 21),$("$TX" pubkey 22),$("$TX" pubkey 23)"
"$CLI" trust create --origin "$CHAIN" --validator "$VNAME=$VKEY" --quorum 1 \
	--product thermo --root-keys "$roots" --root-threshold 2 --out "$TMP/trust.txt" ||
	fail "trust create"

# boot DEV [args]: power the device on with the trust file; its output in $TMP/out, log in
# $TMP/agent.log (info level, so verification results are there).
boot() {
	local dev=$1
	shift
	FWC_AGENT_LOG=2 "$AG" boot "$dev" --trust "$TMP/trust.txt" --node "$URL" --hw rev-b \
		--no-clock "$@" >"$TMP/out" 2>"$TMP/agent.log" || fail "boot: $(cat "$TMP/agent.log")"
}

# --- release 5: verified against the node's bundle ---
dev=$TMP/dev
"$AG" format "$dev" 1048576 4096 >/dev/null
head -c 50000 /dev/urandom >"$TMP/factory.img"
"$AG" factory "$dev" "$TMP/factory.img" >/dev/null
# an unregistered device gets no offer: the node answers 404 unknown_device
boot "$dev" --floor 1
grep -q "release verified" "$TMP/agent.log" && fail "unregistered device got an offer"
grep -q -- "-> DOWNLOAD" "$TMP/out" && fail "unregistered device downloads: $(cat "$TMP/out")"

# --- the devices registered by an operator ---
export FWCHAIN_PASSPHRASE=agent-e2e-pass
printf '%s\n' "$FWCHAIN_PASSPHRASE" >"$TMP/pass"
"$CLI" keygen --out "$TMP/ops.key" >/dev/null || fail "keygen"
ops_secret=$("$TX" keystore-secret "$TMP/ops.key" "$TMP/pass") || fail "keystore-secret"
submit add-op 10 4 member-add "$ops_secret" 3
ops_nonce=0
register() { # register DEVDIR: fwchain device register with the operator's keystore
	local key
	key=$("$AG" status "$1" | sed -n 's/^device key: //p')
	[ -n "$key" ] || fail "no device key in status of $1"
	ops_nonce=$((ops_nonce + 1))
	"$CLI" device register --device "$key" --product thermo --hwid rev-b --key "$TMP/ops.key" \
		--nonce "$ops_nonce" --node "$URL" --wait 10 >/dev/null || fail "device register $1"
}
register "$dev"
boot "$dev" --floor 1
grep -q "release verified (5, 1005)" "$TMP/agent.log" ||
	fail "release 5 not verified: $(cat "$TMP/agent.log")"
grep -q -- "-> DOWNLOAD" "$TMP/out" || fail "offer not accepted: $(cat "$TMP/out")"
grep -q "check-in refused" "$TMP/agent.log" && fail "refused: $(cat "$TMP/agent.log")"
# no content at the gateway for the made-up CID: the download fails, nothing is installed
grep -q "active slot: A" "$TMP/out" || fail "installed something: $(cat "$TMP/out")"
# the download failure event goes out at once (the device is registered): checked on the
# ledger below
size=$(curl -s "$URL/v1/checkpoint" | sed -n 2p)
grep -q "checkpoint: size $size" <("$AG" status "$dev") ||
	grep -q "checkpoint: size [1-9]" <("$AG" status "$dev") || fail "checkpoint not recorded"

# --- the registered device's events reach the ledger ---
devkey=$("$AG" status "$dev" | sed -n 's/^device key: //p')
boot "$dev" --floor 1
"$AG" status "$dev" >"$TMP/st"
grep -q "events: 0 queued" "$TMP/st" || fail "events not reported: $(cat "$TMP/st") $(cat "$TMP/agent.log")"
grep -q "transaction nonce: [3-9]" "$TMP/st" || fail "nonce: $(cat "$TMP/st")"
for _ in $(seq 1 100); do
	r=$(http GET "/v1/events?device=$devkey")
	[ "$(json items.0.kind_name 2>/dev/null || true)" = failed ] && break
	sleep 0.1
done
[ "$(json items.0.kind_name)" = failed ] && [ "$(json items.0.relay)" = "$devkey" ] ||
	fail "event not on the ledger: $r"
[ "$(json items.0.detail)" = "download_failed -16" ] || fail "event detail: $r"

# --- rotations: root set v2, release set v2, release 7 signed by the new release key ---
submit rootrot 10 5 keyset-rotate thermo 1 2 1 24,25 21,22,24
submit relrot 10 6 keyset-rotate thermo 2 2 1 34,35 24
submit rel7 11 2 release thermo stable 7 rev-b 34
boot "$dev" --floor 1
grep -q "release verified (7, 1007)" "$TMP/agent.log" ||
	fail "release 7 not verified through the rotations: $(cat "$TMP/agent.log")"

# --- no update: a device at counter 7 gets the checkpoint note and records it ---
dev2=$TMP/dev2
"$AG" format "$dev2" 1048576 4096 >/dev/null
register "$dev2"
boot "$dev2" --floor 7
grep -q "check-in refused" "$TMP/agent.log" && fail "no-update refused: $(cat "$TMP/agent.log")"
grep -q "IDLE: not found" "$TMP/out" || fail "no update expected: $(cat "$TMP/out")"
"$AG" status "$dev2" | grep -q "checkpoint: size [1-9]" || fail "checkpoint of 'no update' lost"

# --- another validator key: the node's checkpoint has no quorum for this device ---
"$CLI" trust create --origin "$CHAIN" --validator "$VNAME=$("$TX" pubkey 120 ed25519)" \
	--quorum 1 --product thermo --root-keys "$roots" --root-threshold 2 \
	--out "$TMP/trust-other.txt" || fail "trust create (other)"
dev3=$TMP/dev3
"$AG" format "$dev3" 1048576 4096 >/dev/null
register "$dev3"
FWC_AGENT_LOG=2 "$AG" boot "$dev3" --trust "$TMP/trust-other.txt" --node "$URL" --hw rev-b \
	--no-clock >"$TMP/out" 2>"$TMP/agent.log" || fail "boot dev3"
grep -q "REPORT: cosignature quorum not met" "$TMP/out" || fail "no quorum refusal: $(cat "$TMP/out")"

stop_node "$NODE_PID"
echo "node_e2e.sh: ok"
