#!/usr/bin/env bash
# kill -9 under load loses nothing reported committed. A writer submits transactions while the
# node makes a block every 50 ms; at an arbitrary moment we read the checkpoint the node serves
# (it only ever serves the checkpoint of a block already synced to disk) and kill the node with
# SIGKILL right after. On restart the new checkpoint must be at least as large and an RFC 9162
# consistency proof from the old one must verify (python below, independent of the C code): the
# log was only extended, never rewritten. Every transaction the node reported committed before
# the kill (leaf index < old size) must still be committed at the same leaf. The node itself
# also refuses to start when its stored leaves do not give the head checkpoint's root.
source "$FWC_SRC/tests/node/lib.sh"

verify_consistency() { # OLD-CHECKPOINT NEW-CHECKPOINT PROOF-JSON
	python3 - "$@" <<'PY'
import base64, hashlib, json, sys
def head(p):
    l = open(p).read().split("\n"); return int(l[1]), base64.b64decode(l[2])
n1, r1 = head(sys.argv[1]); n2, r2 = head(sys.argv[2])
proof = [base64.b64decode(x) for x in json.load(open(sys.argv[3]))["hashes"]]
h = lambda b: hashlib.sha256(b).digest()
assert n1 <= n2
if n1 == n2 or n1 == 0:
    assert not proof and (n1 == 0 or r1 == r2)
    sys.exit(0)
# RFC 9162 section 2.1.4.2
if n1 & (n1 - 1) == 0:
    proof = [r1] + proof
fn, sn = n1 - 1, n2 - 1
while fn & 1:
    fn >>= 1; sn >>= 1
fr = sr = proof[0]
for c in proof[1:]:
    assert sn != 0
    if fn & 1 or fn == sn:
        fr = h(b"\1" + c + fr); sr = h(b"\1" + c + sr)
        while fn & 1 == 0 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        sr = h(b"\1" + sr + c)
    fn >>= 1; sn >>= 1
assert fr == r1 and sr == r2 and sn == 0
PY
}

D="$TMP/data"
TXTOOL="$FWC_BIN/test_node_txtool"
for round in 1 2; do
	start_node "r$round" "$D" --block-interval-ms 50
	http GET /v1/health >/dev/null; chain=$(json chain_id)
	# A fresh writer key per round (nonces 1, 2, ...), made an admin by the genesis admin.
	admin=$("$TXTOOL" keystore-secret "$D/admin.keystore" "$D/admin.pass") || fail keystore
	writer_seed=$((100 + round))
	"$TXTOOL" tx "$chain" "$admin" "$round" member-add "$writer_seed" 1 >"$TMP/add.$round"
	r=$(http POST /v1/txs --data-binary @"$TMP/add.$round"); expect_status 202 "$r" "member-add"
	wait_committed "$(json id)"
	: >"$TMP/ids.$round"
	(
		trap - EXIT # the writer must not run the node-killing cleanup when it ends
		for i in $(seq 1 300); do
			"$TXTOOL" tx "$chain" "$writer_seed" "$i" member-add \
				"$(printf '%02x%062x' "$round" "$i")" 5 |
				curl -s --max-time 2 -w '\n' --data-binary @- "$URL/v1/txs" |
				sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p' >>"$TMP/ids.$round" || true
		done
	) &
	writer=$!
	sleep 0.$((RANDOM % 6 + 3))
	curl -s --max-time 2 -o "$TMP/cp.before" "$URL/v1/checkpoint" || fail "checkpoint"
	size_before=$(sed -n 2p "$TMP/cp.before")
	kill -9 "$NODE_PID"
	wait "$NODE_PID" 2>/dev/null || true
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true

	start_node "r${round}b" "$D" --block-interval-ms 50
	curl -s --max-time 2 -o "$TMP/cp.after" "$URL/v1/checkpoint" || fail "checkpoint after"
	size_after=$(sed -n 2p "$TMP/cp.after")
	[ "$size_after" -ge "$size_before" ] || fail "log shrank: $size_before -> $size_after"
	r=$(http GET "/v1/proofs/consistency?from=$size_before&to=$size_after")
	expect_status 200 "$r" "consistency proof"
	verify_consistency "$TMP/cp.before" "$TMP/cp.after" "$TMP/body" ||
		fail "log after restart is not an extension of the log before kill -9"
	# Every accepted id is either committed inside the log, or was still pending at the kill
	# (202 promises acceptance into the mempool, not durability) and is unknown now.
	committed=0
	while read -r id; do
		r=$(http GET "/v1/txs/$id")
		case "${r%% *}" in
		200) leaf=$(sed -n 's/.*"leaf_index":\([0-9]*\).*/\1/p' "$TMP/body" | head -n 1)
			[ "$leaf" -lt "$size_after" ] || fail "tx $id at leaf $leaf beyond the log"
			committed=$((committed + 1)) ;;
		404) ;;
		*) fail "tx $id: $r" ;;
		esac
	done <"$TMP/ids.$round"
	echo "round $round: log $size_before -> $size_after after kill -9;" \
		"$committed of $(wc -l <"$TMP/ids.$round") accepted txs committed"
	[ "$committed" -ge 1 ] || fail "nothing was committed under load"
	stop_node "$NODE_PID"
done
echo "node_crash: 1 passed, 0 failed"
