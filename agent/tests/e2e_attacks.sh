#!/usr/bin/env bash
# The attack checklist of issue 5 end to end: the fwagent tool against a REAL fwchaind and its
# trustless gateway on 127.0.0.1, with a man-in-the-middle (e2e_attacks.py proxy) in front of
# the node where an attack needs a malicious node or gateway. For every attack the device
# installs nothing (or, for the download attacks, exactly the signed image), keeps its good
# image, and its refusal lands on the ledger: each device is registered by an operator, its
# DEVICE_EVENT transactions pass through the proxy to the node, and the test reads them back
# with GET /v1/events?device=KEY.
#
# Set-up: a consortium chain with one validator; product thermo (root set 2 of {21,22,23}),
# release set v1 = {K0,K1,K2} 2 of 3 (keystores made by `fwchain keygen`); product lamp.
# Releases are made with `fwchain manifest create/sign` and `fwchain release publish --image`
# (the content goes to the node's store, which serves it as /ipfs/<cid>?format=raw). Releases
# the node refuses are still logged (status failed) with an inclusion proof: the proxy serves
# their bundles, built by e2e_attacks.py from GET /v1/txs/{id}.
#
# Every wait is bounded; the node and the proxy are stopped by PID; the whole run takes about
# a minute (the trickling source and the checkpoint age are the slow parts).
source "$FWC_SRC/tests/node/lib.sh"
TX="$FWC_BIN/test_node_txtool"
AG="$FWC_BIN/fwagent"
CLI="$FWC_BIN/fwchain"
PY="$FWC_SRC/agent/tests/e2e_attacks.py"
T0=$SECONDS

consortium_setup agent-attacks 100 1
start_fwchaind n1 --genesis "$TMP/genesis.json" --config "$TMP/etc/node.json" --data "$TMP/data"
NODE=$URL

# --- the man in the middle ---
CTL=$TMP/control.json
python3 "$PY" proxy "$NODE" "$CTL" "$TMP/proxy.port" 2>"$TMP/proxy.log" &
PIDS+=("$!")
for _ in $(seq 1 50); do [ -s "$TMP/proxy.port" ] && break; sleep 0.1; done
[ -s "$TMP/proxy.port" ] || fail "proxy did not start"
MITM="http://127.0.0.1:$(cat "$TMP/proxy.port")"
mitm() { printf '%s\n' "${1:-{\}}" >"$CTL"; } # mitm JSON: what the proxy does from now on
mitm '{}'

submit() { # submit NAME SEED NONCE KIND ARGS...: a txtool transaction, committed
	local name=$1 id
	shift
	"$TX" tx "$CHAIN" "$@" >"$TMP/$name.tx" || fail "txtool $*"
	r=$(http POST /v1/txs --data-binary @"$TMP/$name.tx")
	expect_status 202 "$r" "submit $name"
	id=$(json id)
	wait_committed "$id"
}

# --- keys: the publisher, the operator, release keys K0..K3, and two keys nobody knows ---
export FWCHAIN_PASSPHRASE=e2e-attacks-pass
printf '%s\n' "$FWCHAIN_PASSPHRASE" >"$TMP/pass"
for k in pub op k0 k1 k2 k3 u0 u1; do
	"$CLI" keygen --kdf-ops 1 --kdf-mem 8192 --out "$TMP/$k.key" >/dev/null || fail "keygen $k"
done
secret() { "$TX" keystore-secret "$TMP/$1.key" "$TMP/pass" || fail "keystore-secret $1"; }
submit add-pub 10 1 member-add "$(secret pub)" 2
submit add-op 10 2 member-add "$(secret op)" 3
submit thermo 10 3 product-register thermo Thermostat 2 21,22,23
submit lamp 10 4 product-register lamp Lamp 2 21,22,23
submit relset 10 5 keyset-register thermo 2 "$(secret k0),$(secret k1),$(secret k2)" 21,22

# release NAME COUNTER HW IMAGE PRODUCT SIGNER... : create, sign and publish (content first);
# the transaction is $TMP/NAME.tx; prints nothing. A release the ledger refuses is fine here.
release() {
	local name=$1 counter=$2 hw=$3 img=$4 product=$5
	shift 5
	"$CLI" manifest create --product "$product" --version "1.0.$counter" --counter "$counter" \
		--hw "$hw" --image "$img" --created 1700000000 --out "$TMP/$name.fwm" \
		${CIDV:+--cid-version $CIDV} >/dev/null || fail "manifest create $name"
	for k in "$@"; do
		"$CLI" manifest sign --key "$TMP/$k.key" "$TMP/$name.fwm" >/dev/null ||
			fail "manifest sign $name $k"
	done
	"$CLI" release publish "$TMP/$name.fwm" --image "$img" --key "$TMP/pub.key" --node "$NODE" \
		--out "$TMP/$name.tx" --wait 10 >"$TMP/$name.pub" 2>&1 || true
	[ -s "$TMP/$name.tx" ] || fail "release publish $name: $(cat "$TMP/$name.pub")"
	wait_done "$(sha256sum <"$TMP/$name.tx" | cut -c1-64)"
}
wait_done() { # wait_done ID: committed or failed, in a block
	for _ in $(seq 1 100); do
		http GET "/v1/txs/$1" >/dev/null
		case "$(json status 2>/dev/null || true)" in committed | failed) return 0 ;; esac
		sleep 0.1
	done
	fail "tx $1 not in a block within 10 s"
}
status_of() { http GET "/v1/txs/$(sha256sum <"$TMP/$1.tx" | cut -c1-64)" >/dev/null; json status; }

for v in 41 43 44 45; do head -c 600000 /dev/urandom >"$TMP/img$v"; done
for v in 50 51 52 53 55; do head -c 300000 /dev/urandom >"$TMP/img$v"; done
head -c 50000 /dev/urandom >"$TMP/factory.img"

roots="$("$TX" pubkey 21),$("$TX" pubkey 22),$("$TX" pubkey 23)"
"$CLI" trust create --origin "$CHAIN" --validator "$VNAME=$VKEY" --quorum 1 \
	--product thermo --root-keys "$roots" --root-threshold 2 --out "$TMP/trust.txt" ||
	fail "trust create"
"$CLI" trust create --origin "$CHAIN" --validator "$VNAME=$VKEY" \
	--validator "$CHAIN/v1=$("$TX" pubkey 120 ed25519)" --quorum 2 \
	--product thermo --root-keys "$roots" --root-threshold 2 --out "$TMP/trust-q2.txt" ||
	fail "trust create (quorum 2)"
"$CLI" trust create --origin "$CHAIN" --validator "$VNAME=$VKEY" --quorum 1 --max-age 4 \
	--product thermo --root-keys "$roots" --root-threshold 2 --out "$TMP/trust-age.txt" ||
	fail "trust create (max age)"

# new_device NAME: a formatted device with the factory image in slot A, registered on the
# ledger by the operator (so its event reports are taken); sets DEV and DEVKEY.
new_device() {
	DEV=$TMP/$1
	"$AG" format "$DEV" 1048576 4096 >/dev/null || fail "format $1"
	"$AG" factory "$DEV" "$TMP/factory.img" >/dev/null || fail "factory $1"
	DEVKEY=$("$AG" status "$DEV" | sed -n 's/^device key: //p')
	"$CLI" device register --device "$DEVKEY" --product thermo --hwid rev-b \
		--key "$TMP/op.key" --node "$NODE" --wait 10 >/dev/null || fail "device register $1"
}

use_device() { # use_device NAME: switch to a device made by new_device
	DEV=$TMP/$1
	DEVKEY=$("$AG" status "$DEV" | sed -n 's/^device key: //p')
}

# boot [args]: power $DEV on and step until idle (powering on again after each reboot),
# checking in with the node through the proxy; output in $TMP/out, log in $TMP/agent.log.
boot() {
	local trust=$TMP/trust.txt
	if [ "${1:-}" = --trust ]; then
		trust=$2
		shift 2
	fi
	FWC_AGENT_LOG=2 timeout 120 "$AG" boot "$DEV" --trust "$trust" --node "${BOOT_NODE:-$MITM}" \
		--hw rev-b \
		--floor 42 "$@" >"$TMP/out" 2>"$TMP/agent.log" ||
		fail "boot: $(tail -5 "$TMP/agent.log")"
}
active_is() { # active_is A|B COUNTER
	"$AG" status "$DEV" >"$TMP/st"
	grep -q "active slot: $1 (counter $2," "$TMP/st" ||
		fail "want slot $1 with counter $2 active: $(cat "$TMP/st") $(tail -20 "$TMP/agent.log")"
	grep -q "pending slot: none" "$TMP/st" || fail "a pending slot: $(cat "$TMP/st")"
}
# ledger_has DETAIL: the device's events on the ledger include one whose detail starts with
# DETAIL (e.g. "refused unknown_key"); waits at most 5 s for the report's block.
ledger_has() {
	for _ in $(seq 1 50); do
		http GET "/v1/events?device=$DEVKEY&limit=100" >/dev/null
		python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
sys.exit(0 if any(str(i.get("detail","")).startswith(sys.argv[2]) for i in d.get("items",[])) else 1)' \
			"$TMP/body" "$1" && return 0
		sleep 0.1
	done
	fail "no '$1' event of $DEVKEY on the ledger: $(cat "$TMP/body") $(tail -20 "$TMP/agent.log")"
}
# refused REASON WHAT [boot args]: boot; nothing installed (factory image active, nothing
# downloaded), and the refusal is on the ledger.
refused() {
	local reason=$1 what=$2
	shift 2
	boot "$@"
	active_is A 0
	grep -q "download: none" "$TMP/st" || fail "$what: a download was started: $(cat "$TMP/st")"
	grep -q "check-in refused ($(reason_no "$reason")," "$TMP/agent.log" ||
		fail "$what: not refused as $reason: $(tail -20 "$TMP/agent.log")"
	ledger_has "refused $reason"
	echo "ok  $what: refused ($reason), factory image kept, event on the ledger"
}
reason_no() {
	case $1 in
	malformed) echo 1 ;; bad_cosignature) echo 3 ;; quorum) echo 4 ;;
	stale_checkpoint) echo 5 ;; checkpoint_too_old) echo 7 ;; inclusion) echo 8 ;;
	unknown_key) echo 12 ;; below_threshold) echo 13 ;; revoked_key) echo 14 ;;
	wrong_product) echo 16 ;; wrong_hardware) echo 17 ;; rollback) echo 19 ;;
	*) echo 99 ;;
	esac
}
# serve FILE: the proxy answers the check-in with FILE; serve_bundle NAME TX... [flags]
serve() { mitm "{\"updates\": \"$1\"}"; }
serve_bundle() {
	local out=$TMP/$1.cbor
	shift
	python3 "$PY" bundle "$NODE" "$out" "$@" || fail "bundle $*"
	serve "$out"
}
checkin_answer() { # checkin_answer COUNTER FILE: what the honest node answers a rev-b device
	curl -s --max-time 5 -o "$2" \
		"$NODE/v1/updates?product=thermo&channel=stable&hw=rev-b&counter=$1" ||
		fail "GET /v1/updates"
}
raw_leaf_cid() { # raw_leaf_cid IMAGE I: the CIDv1 raw CID of 256 KiB chunk I
	python3 -c 'import base64,hashlib,sys
d=open(sys.argv[1],"rb").read()[int(sys.argv[2])*262144:][:262144]
print("b"+base64.b32encode(b"\x01\x55\x12\x20"+hashlib.sha256(d).digest()).decode().lower().rstrip("="))' "$1" "$2"
}

# ==== honest releases 41 and 43; their bundles saved as the node gave them ====
release r41 41 rev-b "$TMP/img41" thermo k0 k1
checkin_answer 40 "$TMP/b41.cbor"
release r43 43 rev-b "$TMP/img43" thermo k0 k1
checkin_answer 42 "$TMP/b43.cbor"
[ "$(status_of r43)" = committed ] || fail "release 43 not committed"

# ==== D2: installs 43 from the real node's gateway (blocks by CID), confirms it ====
new_device d2
mitm '{}'
boot
active_is B 43
ledger_has confirmed
echo "ok  honest release 43 installed from the node's gateway and confirmed"

# a checkpoint older than the newest accepted: release 41's bundle as the node gave it before
serve "$TMP/b41.cbor"
boot
active_is B 43
grep -q "check-in refused (5," "$TMP/agent.log" || fail "stale: $(cat "$TMP/agent.log")"
ledger_has "refused stale_checkpoint"
echo "ok  replayed bundle under an older checkpoint: refused (stale_checkpoint), 43 kept"

# rollback: release 41, logged and valid, proven under the current checkpoint
serve_bundle b41now "$TMP/r41.tx" "$TMP/relset.tx"
boot
active_is B 43
grep -q "check-in refused (19," "$TMP/agent.log" || fail "41 not refused: $(cat "$TMP/agent.log")"
ledger_has "refused rollback"
echo "ok  rollback: older release 41 refused, 43 kept, event on the ledger"

# unhealthy CMD: a health command that runs CMD and fails. The honest node keeps offering the
# release; the agent itself must not install a rolled-back release again (it asks check-in for
# releases above it and refuses it if offered).
unhealthy() {
	echo "$1; exit 1"
}

# failed health check after boot: 44 goes to slot A, fails every trial, rolled back
release r44 44 rev-b "$TMP/img44" thermo k1 k2
mitm '{}'
boot --health "$(unhealthy true)"
active_is B 43
ledger_has "rolled_back health"
grep -c "download started (44," "$TMP/agent.log" | grep -qx 1 ||
	fail "44 downloaded more than once: $(grep -c "download started" "$TMP/agent.log")"
echo "ok  failed health check: release 44 rolled back, 43 active, event on the ledger"
# the next check-ins: the node has nothing above 44 for this device, so nothing is downloaded
boot
boot
active_is B 43
grep -q "download started" "$TMP/agent.log" && fail "44 reinstalled: $(tail "$TMP/agent.log")"
grep -q "release was rolled back" "$TMP/agent.log" &&
	fail "check-in did not ask above 44: $(tail "$TMP/agent.log")"
# a node offering the rolled-back release anyway: refused at DECIDE, nothing downloaded
serve_bundle b44now "$TMP/r44.tx" "$TMP/relset.tx"
boot
active_is B 43
grep -q "release was rolled back (44," "$TMP/agent.log" ||
	fail "44 not refused: $(tail "$TMP/agent.log")"
grep -q "download started" "$TMP/agent.log" && fail "44 reinstalled: $(tail "$TMP/agent.log")"
mitm '{}'
echo "ok  rolled-back release 44 not installed again at the next check-ins (asked or offered)"

# rollback after the A/B fallback: 43's own release again (counter = floor)
serve_bundle b43now "$TMP/r43.tx" "$TMP/relset.tx"
boot
active_is B 43
grep -q "check-in refused (19," "$TMP/agent.log" || fail "43 not refused: $(cat "$TMP/agent.log")"
echo "ok  rollback after the A/B fallback: 43 replayed and refused, floor kept at 43"

# ==== download attacks on release 44 (fresh devices) ====
# mix and match: a valid image of another release (43's leaves) served under 44's CIDs
new_device d3a
mitm "{\"mix\": {\"this\": \"$TMP/img44\", \"other\": \"$TMP/img43\"}}"
boot
active_is A 0
grep -q "download: none" "$TMP/st" || fail "mix: download still recorded"
ledger_has "download_failed"
echo "ok  mix-and-match: release 43's blocks under 44's CIDs never counted, nothing installed"

# endless data: every range followed by junk; never a byte past the signed size
new_device d3b
mitm '{"endless": true}'
boot
active_is B 44
python3 -c 'import sys
d=open(sys.argv[1],"rb").read(); img=open(sys.argv[2],"rb").read()
sys.exit(0 if d[:len(img)]==img and set(d[len(img):])<={0xff} else 1)' "$DEV/slot-b" "$TMP/img44" ||
	fail "endless: slot B holds more than the signed image"
echo "ok  endless data: exactly the signed 600000 bytes programmed, the rest of slot B erased"

# trickling gateway: below the minimum rate, the agent moves to the node and completes
new_device d3c
mitm '{"trickle": true}'
BOOT_NODE=$NODE boot --gateway "$MITM"
active_is B 44
grep -q "source below minimum rate" "$TMP/agent.log" || fail "trickle: rule not applied"
echo "ok  trickling gateway abandoned by the minimum-rate rule, completed from the node"

# tampered block from one gateway: fail over to the node, completes
new_device d3d
mitm "{\"tamper\": [\"$(raw_leaf_cid "$TMP/img44" 1)\"]}"
BOOT_NODE=$NODE boot --gateway "$MITM"
active_is B 44
grep -q "source failed" "$TMP/agent.log" || fail "tamper: no failover"
ledger_has confirmed
echo "ok  tampered leaf from one gateway: failed over to the node, installed and confirmed"

# ==== release 45 as CIDv0 (dag-pb leaves, Qm...) ====
CIDV=0 release r45 45 rev-b "$TMP/img45" thermo k0 k1
use_device d2
mitm '{}'
# slot modified after verification: the first trial's health check (a stand-in for anything
# writing the slot) changes the image; the boot selection's hash check then rolls back
boot --health "$(unhealthy "printf x | dd of=$DEV/slot-\$FWC_AGENT_SLOT bs=1 seek=100 conv=notrunc 2>/dev/null")"
active_is B 43
ledger_has "rolled_back hash"
echo "ok  slot modified after verification: boot check failed, rolled back to 43"
new_device d4
mitm '{}'
boot
active_is B 45
ledger_has confirmed
echo "ok  CIDv0 release 45 (dag-pb leaves) installed from the node's gateway"

# ==== releases the ledger logged but refused, or will not offer this device ====
release r50 50 rev-b "$TMP/img50" thermo u0 u1 # signed by keys the product does not know
release r51 51 rev-b "$TMP/img51" thermo k0 k0 # one release key, signing twice, of 2 of 3
release r52 52 rev-b "$TMP/img52" lamp k0 k1   # another product's manifest
release r53 53 rev-c "$TMP/img53" thermo k0 k1 # another hardware (committed: offered to rev-c)
for r in r50 r51 r52; do [ "$(status_of $r)" = failed ] || fail "$r: $(status_of $r)"; done
[ "$(status_of r53)" = committed ] || fail "r53: $(status_of r53)"
# one key counted twice: the signed-manifest format cannot even carry it (signatures sorted
# strictly by key): the second signature of K0 replaced the first, and the device counts one
"$CLI" manifest show "$TMP/r51.fwm" | grep -q "^signatures: 1 " ||
	fail "K0 twice: $("$CLI" manifest show "$TMP/r51.fwm")"

new_device d1
serve_bundle b50 "$TMP/r50.tx" "$TMP/relset.tx"
refused unknown_key "image signed by unknown keys"
serve_bundle b51 "$TMP/r51.tx" "$TMP/relset.tx"
refused below_threshold "one release key twice against 2 of 3 (counted once)"
serve_bundle b52 "$TMP/r52.tx" "$TMP/relset.tx"
refused wrong_product "manifest of another product"
serve_bundle b53 "$TMP/r53.tx" "$TMP/relset.tx"
refused wrong_hardware "manifest of another hardware"
serve_bundle b43p "$TMP/r43.tx" "$TMP/relset.tx" --flip-path
refused inclusion "altered inclusion path"
serve_bundle b43c "$TMP/r43.tx" "$TMP/relset.tx" --flip-cosig
refused bad_cosignature "invalid cosignature"
mitm '{}' # the honest node's answer, for a device that wants two validators
refused quorum "too few cosignatures (1 of a quorum of 2)" --trust "$TMP/trust-q2.txt"
# freeze: a validly cosigned bundle kept until it is older than the device's maximum age
serve_bundle b43old "$TMP/r43.tx" "$TMP/relset.tx"
sleep 5
refused checkpoint_too_old "stale but validly cosigned checkpoint (freeze)" \
	--trust "$TMP/trust-age.txt"
# a checkpoint older than the newest accepted: the node's current checkpoint ("no update") is
# recorded, then a bundle under an earlier one is refused
mitm '{"no_update": true}'
boot
"$AG" status "$DEV" | grep -q "checkpoint: size [1-9]" || fail "no-update checkpoint not recorded"
serve "$TMP/b43.cbor"
refused stale_checkpoint "checkpoint older than the newest accepted"

# a rotated-out key: release set v2 = {K1,K2,K3}; release 55 signed by K0 (rotated out) and K1
submit relrot 10 6 keyset-rotate thermo 2 2 2 "$(secret k1),$(secret k2),$(secret k3)" 21,22
release r55 55 rev-b "$TMP/img55" thermo k0 k1
[ "$(status_of r55)" = failed ] || fail "r55: $(status_of r55)"
serve_bundle b55 "$TMP/r55.tx" "$TMP/relset.tx" "$TMP/relrot.tx"
boot
active_is A 0
why=$(sed -n 's/.*check-in refused (\(12\|14\),.*/\1/p' "$TMP/agent.log")
[ -n "$why" ] || fail "rotated-out key not refused: $(tail "$TMP/agent.log")"
[ "$why" = 12 ] && why=unknown_key || why=revoked_key
ledger_has "refused $why"
echo "ok  rotated-out key: release signed by K0 after the rotation refused ($why)"

stop_node "$NODE_PID"
echo "e2e_attacks.sh: ok ($((SECONDS - T0)) s)"
