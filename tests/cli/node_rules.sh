#!/usr/bin/env bash
# The check-in rules over HTTP against a real fwchaind (consortium genesis, one validator, on
# 127.0.0.1, stopped by PID, every wait bounded): GET /v1/updates applies the ledger's rollout
# records to the device that asks (docs/node.md, "Check-in rules"). Each rule is checked both
# ways, admitted and held, and the hold is named in the Fwchain-Hold header:
# - device facts: unknown device 404 unknown_device, retired 403 device_retired, another
#   product 409 product_mismatch, another hardware id 409 hwid_mismatch;
# - rollout state: a paused release is not offered (an older one is, with "paused"), resume
#   offers it again, a halted one is never offered ("halted");
# - groups: a release for group eu is offered to a device in eu, held for one in lab
#   (not_in_group) and for an anonymous check-in (device_required);
# - staged rollout: a release at 50 % is offered exactly to the devices whose bucket, computed
#   here independently (first 8 bytes of SHA-256(key binary || release id) mod 10000, python
#   hashlib), is below 5000; the answers are the same asked again in reverse order;
# - licences: a release that requires feature "pro" is offered to a device holding a licence
#   for it, held (licence_required) for one without and after the licence is revoked; a
#   product-wide licence admits every device; a device with more licences than the node caches
#   per device (16) is looked up: offered with the feature among 18, held with 17 others;
# - postponements: a device postponement and a group postponement defer the release (postponed,
#   with until) for exactly those devices until their time, then it is offered; an anonymous
#   check-in is held while any postponement of it runs;
# - regions and not-before: a release for region north not before T is held (not_before, until
#   T) until T, then offered to the device in north, held for one elsewhere (not_in_region).
# Every offered bundle is checked with test_node_txtool verify-bundle against the release's own
# transaction.
source "$FWC_SRC/tests/node/lib.sh"
TX="$FWC_BIN/test_node_txtool"

consortium_setup acme-rules-test 100 3600
start_fwchaind n1 --genesis "$TMP/genesis.json" --config "$TMP/etc/node.json" --data "$TMP/data" \
	--no-content-check

# post NAME: POST $TMP/NAME.tx, want 202, remember its id.
post() {
	r=$(http POST /v1/txs --data-binary @"$TMP/$1.tx")
	expect_status 202 "$r" "submit $1"
	eval "ID_${1//-/_}=\$(json id)"
}
# submit NAME SEED NONCE KIND ARGS...: make the transaction with txtool, post it.
submit() {
	local name=$1
	shift
	"$TX" tx "$CHAIN" "$@" >"$TMP/$name.tx" || fail "txtool $*"
	post "$name"
}
committed() { for t in "$@"; do wait_committed "$(eval echo "\$ID_${t//-/_}")"; done; }
# checkin QUERY: GET /v1/updates?QUERY into $TMP/body, headers $TMP/hdr; prints the status.
checkin() {
	curl -s --max-time 5 -D "$TMP/hdr" -o "$TMP/body" -w '%{http_code}' "$URL/v1/updates?$1" \
		>"$TMP/status" || true
	cat "$TMP/status"
}
header() { tr -d '\r' <"$TMP/hdr" | sed -n "s/^$1: //Ip"; }
dev() { "$TX" pubkey "$1"; }
q() { # q DEVSEED|- COUNTER [HW]: the query of a device of thermo on stable
	local d=""
	[ "$1" = - ] || d="&device=$(dev "$1")"
	echo "product=thermo&channel=stable&hw=${3:-rev-b}&counter=$2$d"
}
# offered DEVSEED|- COUNTER RELNAME: the answer is the bundle of $TMP/RELNAME.tx, verified.
offered() {
	[ "$(checkin "$(q "$1" "$2")")" = 200 ] || fail "device $1 counter $2: $(cat "$TMP/body")"
	[ "$(header Content-Type)" = application/cbor ] ||
		fail "device $1 counter $2: want $3, got no update (hold: $(header Fwchain-Hold))"
	cp "$TMP/body" "$TMP/bundle.cbor"
	"$TX" verify-bundle "$TMP/bundle.cbor" "$CHAIN" "$VNAME" "$VKEY" 1 "$TMP/$3.tx" \
		>"$TMP/verify.txt" || fail "device $1 counter $2: not $3: $(cat "$TMP/verify.txt")"
}
# held DEVSEED|- COUNTER REASON [RELNAME]: no update (the checkpoint note), Fwchain-Hold names
# REASON (and the release RELNAME's id when given).
held() {
	local h
	[ "$(checkin "$(q "$1" "$2")")" = 200 ] || fail "device $1 counter $2: $(cat "$TMP/body")"
	[[ "$(header Content-Type)" == text/plain* ]] || fail "device $1 counter $2: offered, want $3"
	[ "$(head -n 1 "$TMP/body")" = "$CHAIN" ] || fail "not a checkpoint: $(cat "$TMP/body")"
	h=$(header Fwchain-Hold)
	[ "${h%%;*}" = "$3" ] || fail "device $1 counter $2: hold '$h', want $3"
	[ -z "${4:-}" ] || [[ "$h" == *"release=$(eval echo "\$RID_$4")"* ]] ||
		fail "device $1 counter $2: hold '$h' names another release than $4"
}
refused() { # refused QUERY STATUS CODE
	[ "$(checkin "$1")" = "$2" ] && [ "$(json code)" = "$3" ] ||
		fail "$1: want $2 $3, got $(cat "$TMP/status") $(cat "$TMP/body")"
}

# --- set-up: members, product, key sets, devices (one batch of transactions) ---
cat >"$TMP/setup.txt" <<EOF
add-rel 10 1 member-add 11 2
add-op 10 2 member-add 12 3
product 10 3 product-register thermo Thermostat 2 21,22,23
relset 10 4 keyset-register thermo 2 31,32,33 21,22
d41 12 1 device-register 41 thermo rev-b eu north
d42 12 2 device-register 42 thermo rev-b lab south
d43 12 3 device-register 43 thermo rev-b
d44 12 4 device-register 44 thermo rev-b
retire44 12 5 device-register 44 thermo rev-b - - retire
EOF
for s in $(seq 50 69); do
	echo "d$s 12 $((s - 44)) device-register $s thermo rev-b" >>"$TMP/setup.txt"
done
"$TX" batch "$CHAIN" "$TMP/setup.txt" "$TMP" || fail "txtool batch"
for t in add-rel add-op product relset; do post "$t"; done
committed add-rel add-op product relset
for t in d41 d42 d43 d44; do post "$t"; done
committed d41 d42 d43 d44
post retire44
for s in $(seq 50 69); do post "d$s"; done
committed retire44 d69
OPNONCE=25 # the operator's last nonce
RELNONCE=0
release() { # release NAME COUNTER [RULES]: publish, remember RID_NAME
	RELNONCE=$((RELNONCE + 1))
	submit "$1" 11 "$RELNONCE" release thermo stable "$2" rev-b 31,33 ${3:+"$3"}
	committed "$1"
	eval "RID_$1=\$(\"\$TX\" release-id thermo stable $2 rev-b ${3:+\"\$3\"})"
}
op() { # op NAME KIND ARGS...: an operator transaction, committed
	local name=$1
	shift
	OPNONCE=$((OPNONCE + 1))
	submit "$name" 12 "$OPNONCE" "$@"
	committed "$name"
}

# --- a release open to every device; device facts ---
release r5 5
offered - 0 r5
offered 41 0 r5
refused "$(q 40 0)" 404 unknown_device
refused "$(q 44 0)" 403 device_retired
refused "$(q 41 0 rev-c)" 409 hwid_mismatch
refused "product=other&channel=stable&hw=rev-b&counter=0&device=$(dev 41)" 409 product_mismatch
held 41 5 "" # nothing newer: no hold

# --- rollout state: pause, resume, halt ---
release r6 6
offered 41 5 r6
op pause6 rollout "$RID_r6" 1
offered 41 0 r5 # the paused release is skipped, the older one still offered
[ "$(header Fwchain-Hold)" = "paused; release=$RID_r6" ] || fail "hold: $(header Fwchain-Hold)"
held 41 5 paused r6
held - 5 paused r6
op resume6 rollout "$RID_r6" 2
offered 41 5 r6
op halt6 rollout "$RID_r6" 3
held 41 5 halted r6
held 42 5 halted r6
offered 42 0 r5

# --- groups ---
release r7 7 groups=eu
offered 41 6 r7
held 42 6 not_in_group r7
held 43 6 not_in_group r7
held - 6 device_required r7

# --- staged rollout: 50 % ---
release r8 8 bps=5000
python3 - "$RID_r8" $(for s in $(seq 50 69); do dev "$s"; done) >"$TMP/share.txt" <<'PY'
import hashlib, sys
rid = bytes.fromhex(sys.argv[1])
for k in sys.argv[2:]:
    alg, hexkey = k.split(":")
    binkey = bytes([1 if alg == "bip340" else 2]) + bytes.fromhex(hexkey)
    h = hashlib.sha256(binkey + rid).digest()
    print(k, "in" if int.from_bytes(h[:8], "big") % 10000 < 5000 else "out")
PY
n_in=$(grep -c " in$" "$TMP/share.txt" || true)
[ "$n_in" -gt 0 ] && [ "$n_in" -lt 20 ] || fail "20 devices, $n_in in the share: pick others"
check_share() {
	for s in "$@"; do
		want=$(sed -n "s/^$(dev "$s") //p" "$TMP/share.txt")
		if [ "$want" = in ]; then offered "$s" 7 r8; else held "$s" 7 staged r8; fi
	done
}
check_share $(seq 50 69)
check_share $(seq 69 -1 50) # the same answers in another order
held - 7 device_required r8

# --- licences ---
release r9 9 licence=pro
op lic41 licence-issue l41 thermo 41 pro
held 42 8 licence_required r9
offered 41 8 r9
op lic43 licence-issue l43 thermo 43 basic # another feature does not count
held 43 8 licence_required r9
op unlic41 licence-revoke l41 thermo
held 41 8 licence_required r9
op licall licence-issue fleet thermo - pro # product-wide
offered 42 8 r9
offered 43 8 r9
held - 8 device_required r9

# --- postponements: one device, one group ---
release r10 10
offered 43 9 r10
offered 42 9 r10
OPNONCE=$((OPNONCE + 1))
"$TX" tx "$CHAIN" 12 "$OPNONCE" postpone device 43 "$RID_r10" +8 >"$TMP/pp43.tx"
OPNONCE=$((OPNONCE + 1))
"$TX" tx "$CHAIN" 12 "$OPNONCE" postpone group lab "$RID_r10" +8 >"$TMP/pplab.tx"
post pp43
post pplab
committed pp43 pplab
until_t=$(($(date +%s) + 8))
held 43 9 postponed r10
h=$(header Fwchain-Hold)
u=${h##*until=}
[ "$u" -ge $((until_t - 6)) ] && [ "$u" -le "$until_t" ] || fail "postponed until '$u', want ~$until_t"
held 42 9 postponed r10 # in group lab
offered 41 9 r10        # neither
held - 9 device_required r10
for _ in $(seq 1 100); do # the deferral ends at its time (10 s at most)
	[ "$(date +%s)" -gt "$u" ] && break
	sleep 0.1
done
offered 43 9 r10
offered 42 9 r10
offered - 9 r10

# --- regions and not-before ---
nb=$(($(date +%s) + 8)) # margin for a loaded machine: the release must commit before nb
release r11 11 "regions=north,not_before=$nb"
[ "$(date +%s)" -lt "$nb" ] || fail "release r11 took over 8 s to commit: cannot check not_before"
held 41 10 not_before r11
[[ "$(header Fwchain-Hold)" == *"until=$nb" ]] || fail "not_before hold: $(header Fwchain-Hold)"
for _ in $(seq 1 100); do
	[ "$(date +%s)" -gt "$nb" ] && break
	sleep 0.1
done
offered 41 10 r11
held 42 10 not_in_region r11
held - 10 device_required r11

# --- a device holding more licences than the node keeps per device (16): looked up ---
: >"$TMP/lics.txt"
for i in $(seq 1 17); do
	OPNONCE=$((OPNONCE + 1))
	echo "lic51-$i 12 $OPNONCE licence-issue m51-$i thermo 51 other$i" >>"$TMP/lics.txt"
	OPNONCE=$((OPNONCE + 1))
	echo "lic52-$i 12 $OPNONCE licence-issue m52-$i thermo 52 other$i" >>"$TMP/lics.txt"
done
OPNONCE=$((OPNONCE + 1))
echo "lic51-gold 12 $OPNONCE licence-issue m51-gold thermo 51 gold" >>"$TMP/lics.txt"
"$TX" batch "$CHAIN" "$TMP/lics.txt" "$TMP" || fail "txtool batch (licences)"
for i in $(seq 1 17); do post "lic51-$i"; post "lic52-$i"; done
post lic51-gold
committed lic51-gold
release r12 12 licence=gold
offered 51 11 r12
held 52 11 licence_required r12
held 53 11 licence_required r12

stop_node "$NODE_PID"
echo "node_rules: 1 passed, 0 failed"
