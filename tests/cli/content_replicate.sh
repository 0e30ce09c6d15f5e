#!/usr/bin/env bash
# Content replication between real fwchaind processes on 127.0.0.1, and against a misbehaving
# peer (tests/tools/bad_gateway.py): a file uploaded to A is replicated by B (which follows A's
# pins) and downloaded from B, verified; a node whose only peers are bad ones (wrong bytes,
# another block, truncated, too long with and without Content-Length, trickling, missing)
# refuses every answer, marks each peer, and stores nothing; a node with a bad and a good peer
# completes from the good one and stores only blocks that hash to their names; a node restarted
# with an empty store fetches again what it pinned; unpinning on A makes B drop its copy's pin.
# Every wait is bounded; every process is stopped by its PID.
source "$FWC_SRC/tests/node/lib.sh"

FWC="$FWC_BIN/fwchain"
BADGW="$FWC_SRC/tests/tools/bad_gateway.py"

# jq-free JSON probes: pyget URL EXPR prints eval(EXPR) over the JSON answer j ("" on error).
pyget() {
	curl -s --max-time 5 "$1" >"$TMP/probe" 2>/dev/null || true
	python3 -c 'import json,sys
try:
    j=json.load(open(sys.argv[1]))
    print(eval(sys.argv[2]))
except Exception:
    print("")' "$TMP/probe" "$2"
}

# wait_for SECONDS DESCRIPTION URL EXPR: until EXPR over URL's JSON prints True.
wait_for() {
	local secs=$1 what=$2 url=$3 expr=$4
	for _ in $(seq 1 $((secs * 5))); do
		[ "$(pyget "$url" "$expr")" = True ] && return 0
		sleep 0.2
	done
	fail "$what: not true within $secs s ($(cat "$TMP/probe" 2>/dev/null | head -c 600))"
}

# start_bad NAME MODE...: a bad gateway; sets BAD_URL.
start_bad() {
	local name=$1
	shift
	python3 "$BADGW" "$TMP/$name.port" "$@" 2>"$TMP/$name.log" &
	PIDS+=("$!")
	for _ in $(seq 1 50); do
		[ -s "$TMP/$name.port" ] && break
		sleep 0.1
	done
	[ -s "$TMP/$name.port" ] || fail "bad gateway $name did not start"
	BAD_URL="http://127.0.0.1:$(cat "$TMP/$name.port")"
}

# Every stored block (block files and pack records) must hash to its name; prints the count.
check_store() {
	python3 "$FWC_SRC/tests/tools/store_check.py" "$1/blocks" || fail "store of $1: see above"
}

# --- A holds a 3 MiB image (14 blocks) ---
A="$TMP/a"
start_node a "$A"
A_URL=$URL
A_PID=$NODE_PID
python3 -c 'import random,sys; r=random.Random(5); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3*1024*1024+321)))' >"$TMP/img.bin"
CID=$("$FWC" content add "$TMP/img.bin" --node "$A_URL" --key "$A/admin.keystore" \
	--passphrase-file "$A/admin.pass") || fail "content add on A"
[ "$CID" = "$("$FWC" cid "$TMP/img.bin")" ] || fail "A stored $CID, not the local CID"

# --- B follows A's pins ---
B="$TMP/b"
start_node b "$B" --peer "$A_URL" --replicate-interval-ms 200
B_URL=$URL
B_PID=$NODE_PID
wait_for 30 "B replicates $CID" "$B_URL/v1/content/$CID/status?local=1" \
	'j["complete"] and j["pinned"]'
[ "$(pyget "$B_URL/v1/pins" '[p["origins"] for p in j["pins"]]')" = "[['replica']]" ] ||
	fail "B's pin is not a replica pin: $(cat "$TMP/probe")"
"$FWC" content get "$CID" -o "$TMP/from-b.bin" --from "$B_URL" >/dev/null || fail "content get from B"
cmp -s "$TMP/img.bin" "$TMP/from-b.bin" || fail "the file from B differs"
[ "$(check_store "$B")" = 14 ] || fail "B stores other than the 14 blocks"
# Status on A asks its peers (none) and on B asks A.
[ "$(pyget "$B_URL/v1/content/$CID/status" 'j["peers"][0]["complete"]')" = True ] ||
	fail "B's status does not report A complete: $(cat "$TMP/probe")"

# --- a node whose peers all misbehave: every answer refused, nothing stored ---
MODES=(wrong other truncated long huge trickle missing)
PEERS=()
for m in "${MODES[@]}"; do
	start_bad "bad-$m" "$m"
	PEERS+=(--peer "$BAD_URL")
done
D="$TMP/d"
start_node d "$D" "${PEERS[@]}" --no-follow-peers --replicate-interval-ms 200
D_URL=$URL
out=$("$FWC" content pin "$CID" --node "$D_URL" --key "$D/admin.keystore" \
	--passphrase-file "$D/admin.pass") || fail "content pin on D"
[[ "$out" == "$CID wanted (fetching from peers; first missing block $CID)" ]] || fail "pin on D: $out"
# The root block was asked of every peer; each refusing one is marked.
wait_for 30 "D marks its bad peers" "$D_URL/v1/replication" \
	'all(p["refused_blocks"]>=1 for p in j["peers"][:5]) and j["peers"][5]["failures"]>=1'
for i in 0 1 2 3 4 5 6; do
	[ -s "$TMP/bad-${MODES[$i]}.port.log" ] || fail "peer ${MODES[$i]} was never asked"
done
# "missing" (404) is not the peer's fault: not marked.
[ "$(pyget "$D_URL/v1/replication" 'j["peers"][6]["failures"]')" = 0 ] ||
	fail "a peer that lacks a block was marked: $(cat "$TMP/probe")"
[ "$(check_store "$D")" = 0 ] || fail "D stored something from bad peers"
[ "$(pyget "$D_URL/v1/content/$CID/status?local=1" 'j["complete"]')" = False ] || fail "D complete?"
[ "$(pyget "$D_URL/v1/pins" '[w["origin"] for w in j["wanted"]]')" = "['operator']" ] ||
	fail "D's want is gone: $(cat "$TMP/probe")"

# --- a bad peer first, a good one second: completes from the good one ---
start_bad bad-all
C="$TMP/c"
start_node c "$C" --peer "$BAD_URL" --peer "$A_URL" --no-follow-peers --replicate-interval-ms 200
C_URL=$URL
C_PID=$NODE_PID
"$FWC" content pin "$CID" --node "$C_URL" --key "$C/admin.keystore" \
	--passphrase-file "$C/admin.pass" >/dev/null || fail "content pin on C"
wait_for 60 "C completes from A" "$C_URL/v1/content/$CID/status?local=1" 'j["complete"] and j["pinned"]'
[ -s "$TMP/bad-all.port.log" ] || fail "C never asked the bad peer"
[ "$(pyget "$C_URL/v1/replication" 'j["stats"]["blocks_refused"]+j["stats"]["fetch_errors"]>=1')" = True ] ||
	fail "C did not count the bad answers: $(cat "$TMP/probe")"
[ "$(check_store "$C")" = 14 ] || fail "C stores other than the 14 good blocks"
"$FWC" content get "$CID" -o "$TMP/from-c.bin" --from "$BAD_URL" --from "$C_URL" 2>"$TMP/get.err" >/dev/null ||
	fail "content get through a bad and a good gateway: $(cat "$TMP/get.err")"
cmp -s "$TMP/img.bin" "$TMP/from-c.bin" || fail "the file from C differs"
grep -q "trying the next source" "$TMP/get.err" || fail "content get did not report the bad gateway"

# --- C restarted with an empty store fetches what it pinned again ---
stop_node "$C_PID"
rm -rf "$C/blocks"
start_node c2 "$C" --peer "$A_URL" --no-follow-peers --replicate-interval-ms 200
C_URL=$URL
wait_for 30 "C re-replicates after losing its store" "$C_URL/v1/content/$CID/status?local=1" \
	'j["complete"] and j["pinned"]'
[ "$(check_store "$C")" = 14 ] || fail "C after restart"

# --- A unpins: B (which follows A) drops its replica pin; GC then frees the blocks ---
"$FWC" content unpin "$CID" --node "$A_URL" --key "$A/admin.keystore" \
	--passphrase-file "$A/admin.pass" >/dev/null || fail "unpin on A"
wait_for 20 "B drops its replica pin" "$B_URL/v1/content/$CID/status?local=1" 'not j["pinned"]'
out=$("$FWC" content gc --grace 0 --node "$B_URL" --key "$B/admin.keystore" --passphrase-file "$B/admin.pass") ||
	fail "gc on B"
[[ "$out" == "removed 14 blocks "* ]] || fail "gc on B: $out"
stop_node "$B_PID"
stop_node "$A_PID"
echo "content_replicate: ok"
