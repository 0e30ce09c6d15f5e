#!/usr/bin/env bash
# The node killed (SIGKILL) in the middle of an upload, for real: fwchaind runs, `fwchain content
# add` streams a 48 MiB image, and the node is killed once the upload's temp pack has grown to
# a few MiB (each round a different size). After a restart: no temp file is left, no pack is
# reported damaged, nothing of the cut upload is pinned, a GC leaves the store as it was before
# the upload, every block a pinned DAG needs reads back verified (content get), and the retried
# upload completes with the same CID. Every wait is bounded; every process is stopped by PID.
source "$FWC_SRC/tests/node/lib.sh"

FWC="$FWC_BIN/fwchain"
D="$TMP/d"
python3 -c 'import random,sys; r=random.Random(9); sys.stdout.buffer.write(r.randbytes(48*1024*1024))' >"$TMP/img.bin"
python3 -c 'import random,sys; r=random.Random(10); sys.stdout.buffer.write(r.randbytes(700*1024))' >"$TMP/small.bin"
CID=$("$FWC" cid "$TMP/img.bin")

start_node n "$D"
"$FWC" content add "$TMP/small.bin" --node "$URL" --key "$D/admin.keystore" \
	--passphrase-file "$D/admin.pass" >"$TMP/small.cid" || fail "first upload"
SMALL=$(cat "$TMP/small.cid")

for round in 1 2 3; do
	want=$((round * 4 * 1024 * 1024))
	"$FWC" content add "$TMP/img.bin" --node "$URL" --key "$D/admin.keystore" \
		--passphrase-file "$D/admin.pass" >/dev/null 2>"$TMP/add.err" &
	ADD=$!
	killed=""
	for _ in $(seq 1 2000); do # at most ~20 s
		sz=$(stat -c %s "$D"/blocks/tmp/*.pack 2>/dev/null | head -n 1 || true)
		if [ -n "$sz" ] && [ "$sz" -ge "$want" ]; then
			kill -9 "$NODE_PID"
			killed=1
			break
		fi
		kill -0 "$ADD" 2>/dev/null || break
		sleep 0.01
	done
	[ -n "$killed" ] || fail "round $round: the upload never reached $want bytes of temp pack"
	wait "$NODE_PID" 2>/dev/null || true
	wait "$ADD" 2>/dev/null && fail "round $round: content add succeeded although the node died"
	[ "$(ls "$D/blocks/tmp" | wc -l)" -ge 1 ] || fail "round $round: the kill left no temp pack?"

	start_node "n$round" "$D"
	[ "$(ls "$D/blocks/tmp" | wc -l)" = 0 ] || fail "round $round: temp files survived the restart"
	grep -q damaged "$TMP/n$round.log" && fail "round $round: a pack is reported damaged"
	[ "$(curl -s "$URL/v1/content/$CID/status?local=1" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["pinned"])')" = False ] ||
		fail "round $round: the cut upload is pinned"
	out=$("$FWC" content gc --grace 0 --node "$URL" --key "$D/admin.keystore" \
		--passphrase-file "$D/admin.pass") || fail "round $round: gc"
	[ "$(curl -s "$URL/v1/content/$SMALL/status?local=1" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["complete"] and j["pinned"])')" = True ] ||
		fail "round $round: the earlier upload is no longer complete"
	"$FWC" content get "$SMALL" -o "$TMP/small.back" --node "$URL" >/dev/null ||
		fail "round $round: content get of the earlier upload"
	cmp -s "$TMP/small.back" "$TMP/small.bin" || fail "round $round: earlier upload's bytes differ"
	rm -f "$TMP/small.back"
done

# The retried upload completes, and survives a clean restart.
got=$("$FWC" content add "$TMP/img.bin" --node "$URL" --key "$D/admin.keystore" \
	--passphrase-file "$D/admin.pass") || fail "retried upload"
[ "$got" = "$CID" ] || fail "retried upload gave $got, not $CID"
stop_node "$NODE_PID"
start_node again "$D"
"$FWC" content get "$CID" -o "$TMP/img.back" --node "$URL" >/dev/null || fail "content get after restart"
cmp -s "$TMP/img.back" "$TMP/img.bin" || fail "bytes differ after restart"
stop_node "$NODE_PID"
echo "content_crash: ok"
