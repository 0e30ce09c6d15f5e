#!/usr/bin/env bash
# Replication factor with three real fwchaind processes on 127.0.0.1: A, B and C list each
# other as peers and run with --replication-factor 2. Files are uploaded to A; for each CID the
# nodes placement chooses (rendezvous hashing over the node URLs, docs/content-store.md) fetch
# it, and the third node does not — checked against an independent Python implementation of
# the documented weight SHA-256("fwchain-placement" 0x00 url 0x00 digest). The status endpoint
# (and `fwchain content status`) names where each CID should be and where it is. A node
# started with a malformed factor is refused. Every wait is bounded; every process is stopped
# by its PID.
source "$FWC_SRC/tests/node/lib.sh"

FWC="$FWC_BIN/fwchain"

pyget() {
	curl -s --max-time 5 "$1" >"$TMP/probe" 2>/dev/null || true
	python3 -c 'import json,sys
try:
    j=json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception:
    print("")' "$TMP/probe" "$2"
}

# The expected holders of a CID, heaviest first: placement URL... (independent of the node).
placement() {
	python3 - "$@" <<'EOF'
import base64, hashlib, sys
cid, n, urls = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
# CIDv1 base32 (b...): multibase 'b', then varint version, codec, multihash 0x12 0x20 digest
raw = base64.b32decode(cid[1:].upper() + "=" * (-len(cid[1:]) % 8))
assert raw[0] == 1 and raw[2] == 0x12 and raw[3] == 0x20, cid
digest = raw[4:36]
def w(u):
    return int.from_bytes(hashlib.sha256(b"fwchain-placement\0" + u.encode() + b"\0" + digest).digest()[:8], "big")
print(" ".join(sorted(urls, key=lambda u: (-w(u), u))[:n]))
EOF
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A malformed factor is refused at start.
if "$FWCHAIND" --dev --data "$TMP/x" --port 0 --replication-factor 0 2>"$TMP/x.log"; then
	fail "--replication-factor 0 accepted"
fi
grep -q "replication-factor wants 1..16 or all" "$TMP/x.log" || fail "factor error: $(cat "$TMP/x.log")"

PA=$(free_port)
PB=$(free_port)
PC=$(free_port)
UA="http://127.0.0.1:$PA"
UB="http://127.0.0.1:$PB"
UC="http://127.0.0.1:$PC"
common=(--replication-factor 2 --replicate-interval-ms 200)
start_node a "$TMP/a" --port "$PA" --peer "$UB" --peer "$UC" "${common[@]}"
A_PID=$NODE_PID
start_node b "$TMP/b" --port "$PB" --peer "$UA" --peer "$UC" "${common[@]}"
B_PID=$NODE_PID
start_node c "$TMP/c" --port "$PC" --peer "$UA" --peer "$UB" "${common[@]}"
C_PID=$NODE_PID

# Files until both "B left out" and "C left out" occur (each has probability 1/3 per CID).
CIDS=()
skip_b=0
skip_c=0
for seed in $(seq 1 40); do
	python3 -c 'import random,sys; r=random.Random(int(sys.argv[1])); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(300000)))' \
		"$seed" >"$TMP/f$seed.bin"
	cid=$("$FWC" cid "$TMP/f$seed.bin")
	want=$(placement "$cid" 2 "$UA" "$UB" "$UC")
	[[ " $want " == *" $UB "* ]] || skip_b=$((skip_b + 1))
	[[ " $want " == *" $UC "* ]] || skip_c=$((skip_c + 1))
	got=$("$FWC" content add "$TMP/f$seed.bin" --node "$UA" --key "$TMP/a/admin.keystore" \
		--passphrase-file "$TMP/a/admin.pass") || fail "content add $seed"
	[ "$got" = "$cid" ] || fail "A stored $got, not $cid"
	CIDS+=("$cid")
	[ "$skip_b" -ge 1 ] && [ "$skip_c" -ge 1 ] && [ "${#CIDS[@]}" -ge 4 ] && break
done
[ "$skip_b" -ge 1 ] && [ "$skip_c" -ge 1 ] || fail "no CID left B or C out in 40 files"

holds() { # holds URL CID -> True/False (complete there)
	pyget "$1/v1/content/$2/status?local=1" 'j["complete"]'
}

# Every chosen node completes within 30 s.
for cid in "${CIDS[@]}"; do
	want=$(placement "$cid" 2 "$UA" "$UB" "$UC")
	for u in $want; do
		ok=""
		for _ in $(seq 1 150); do
			[ "$(holds "$u" "$cid")" = True ] && ok=1 && break
			sleep 0.2
		done
		[ -n "$ok" ] || fail "$u should hold $cid (placement: $want) but does not after 30 s"
	done
done
# A few more rounds: the node left out has fetched nothing and pins nothing of it.
sleep 1.5
for cid in "${CIDS[@]}"; do
	want=$(placement "$cid" 2 "$UA" "$UB" "$UC")
	for u in "$UB" "$UC"; do
		[[ " $want " == *" $u "* ]] && continue
		[ "$(holds "$u" "$cid")" = False ] || fail "$u holds $cid although placement is: $want"
		[ "$(pyget "$u/v1/content/$cid/status?local=1" 'j["pinned"]')" = False ] ||
			fail "$u pins $cid although placement is: $want"
	done
	# The status says where it should be (heaviest first) and where it is.
	[ "$(pyget "$UA/v1/content/$cid/status" '" ".join(j["replication"]["should_hold"])')" = "$want" ] ||
		fail "A's status for $cid: should_hold is not '$want': $(cat "$TMP/probe")"
	# where it is: the chosen nodes, and A, where it was uploaded
	got=$(pyget "$UA/v1/content/$cid/status" '" ".join(sorted(j["replication"]["holds"]))')
	[ "$got" = "$(tr ' ' '\n' <<<"$want $UA" | sort -u | tr '\n' ' ' | sed 's/ $//')" ] ||
		fail "A's status for $cid: holds '$got', placement '$want' (+ A)"
	[ "$(pyget "$UA/v1/content/$cid/status" 'j["replication"]["factor"]')" = 2 ] ||
		fail "status factor"
done
out=$("$FWC" content status "${CIDS[0]}" --node "$UB") || fail "content status"
grep -q "^replication factor 2; should be on: $(placement "${CIDS[0]}" 2 "$UA" "$UB" "$UC")$" <<<"$out" ||
	fail "content status output: $out"
grep -q "^is on: " <<<"$out" || fail "content status output: $out"

stop_node "$C_PID"
stop_node "$B_PID"
stop_node "$A_PID"
echo "content_placement: ok"
