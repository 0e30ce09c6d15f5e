#!/usr/bin/env bash
# Availability before acceptance and release pins, end to end on a real `fwchaind --dev`
# (127.0.0.1, a port the node picks, stopped by its PID, every wait bounded): a RELEASE whose
# image the node does not hold is refused at submission naming the missing CID; upload rights
# come from the ledger's roles (a release member may upload, an operator may pin and collect,
# a key that is no member is refused 403 — only the genesis admin of a --dev chain needs no
# role); once uploaded and published, the release's CID is pinned with origin "release",
# survives the removal of the upload pin and a GC, and the image downloads verified, under its
# name too (/ipfs/{cid}/{name}); `release publish --image` uploads and publishes in one go (and
# refuses an image that is not the manifest's); a restart pins every committed release again.
source "$(dirname "$0")/common.bash"

FWCHAIND="$(dirname "$FWC")/fwchaind"
NODE_PID=""
stop_all() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
	rm -rf "$T"
}
trap stop_all EXIT

start() {
	"$FWCHAIND" --dev --data "$T/d" --port 0 --block-interval-ms 100 2>>"$T/node.log" &
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
}
stop() {
	kill -TERM "$NODE_PID"
	for _ in $(seq 1 100); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$NODE_PID" || fail "fwchaind exited $? after SIGTERM"
	NODE_PID=""
	: >"$T/node.log"
}
start
ADMIN="$T/d/admin.keystore"

for k in root1 root2 rel1 rel2 relbot ops stranger; do
	"$FWC" keygen --out "$k.key" "${KDF[@]}" >/dev/null || fail "keygen $k"
done
declare -A NONCE=([admin]=0 [relbot]=0)
keyfile() { [ "$1" = admin ] && echo "$ADMIN" || echo "$1.key"; }
as() {
	local who=$1
	shift
	NONCE[$who]=$((NONCE[$who] + 1))
	expect_rc 0 "$FWC" "$@" --key "$(keyfile "$who")" --nonce "${NONCE[$who]}" --wait 10
	grep -q "^status:      committed in block" <<<"$OUT" || fail "not committed: $OUT"
}
as admin product register --id acme-thermostat --name "ACME Thermostat" \
	--root-keys root1.key,root2.key --root-threshold 1
expect_rc 0 "$FWC" keyset create --product acme-thermostat --set release --version 1 \
	--keys rel1.key,rel2.key --threshold 1 --sign-key root1.key --out rel-set.stmt
as admin keyset register rel-set.stmt
as admin member add --member relbot.key --role release --label "Release bot"
as admin member add --member ops.key --role operator

python3 -c 'import random,sys; r=random.Random(9); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(700000)))' >fw.bin
expect_rc 0 "$FWC" manifest create --product acme-thermostat --version 1.0.0 --counter 1 \
	--hw tstat-rev-b --image fw.bin --out rel.fwm
expect_rc 0 "$FWC" manifest sign --key rel1.key rel.fwm
CID=$("$FWC" cid fw.bin)

# --- not uploaded: refused at submission, naming the CID; nothing committed ---
expect_err 2 "node answered 409 content_unavailable: the release's content $CID is not complete on this node: block $CID is missing" \
	"$FWC" release publish rel.fwm --key relbot.key --nonce 1

# --- upload rights come from the ledger ---
expect_err 2 "node answered 403 forbidden" "$FWC" content add fw.bin --key stranger.key
expect_err 2 "node answered 403 forbidden" "$FWC" content pin "$CID" --key relbot.key
expect_rc 0 "$FWC" content add fw.bin --key relbot.key
expect_eq "$OUT" "$CID" "content add prints the CID"
expect_rc 0 "$FWC" content ls
expect_eq "$OUT" "$CID pinned upload" "pins after the upload"

# --- published: pinned as a release ---
as relbot release publish rel.fwm
for _ in $(seq 1 50); do
	"$FWC" content ls >pins.txt
	grep -q "^$CID pinned release,upload$" pins.txt && break
	sleep 0.1
done
expect_eq "$(cat pins.txt)" "$CID pinned release,upload" "pins after the release"
# The operator drops the upload pin; the release keeps the content through a GC.
expect_rc 0 "$FWC" content unpin "$CID" --key ops.key
expect_eq "$OUT" "$CID unpinned (still pinned by a release)" "unpin"
expect_err 2 "node answered 409 release_pin" "$FWC" content unpin "$CID" --origin release --key ops.key
expect_rc 0 "$FWC" content gc --grace 0 --key ops.key
[[ "$OUT" == "removed 0 blocks (0 bytes); kept 4 pinned, 0 recent" ]] || fail "gc: $OUT"
expect_rc 0 "$FWC" content get "$CID" -o got.bin
cmp -s fw.bin got.bin || fail "downloaded image differs"
expect_absent got.bin.part got.bin.part.state
# By name: the path gateway form the seed uses.
curl -s -D hdr.txt -o named.bin "$FWCHAIN_NODE/ipfs/$CID/firmware-1.0.0.bin" || fail "curl by name"
cmp -s fw.bin named.bin || fail "download by name differs"
grep -qi '^Content-Disposition: inline; filename="firmware-1.0.0.bin"' hdr.txt || fail "no filename header: $(cat hdr.txt)"
grep -qi '^Cache-Control: public, max-age=29030400, immutable' hdr.txt || fail "not immutable"
grep -qi "^X-Ipfs-Path: /ipfs/$CID" hdr.txt || fail "no X-Ipfs-Path"

# --- release publish --image: upload and publish in one command ---
python3 -c 'import random,sys; r=random.Random(10); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(300000)))' >fw2.bin
expect_rc 0 "$FWC" manifest create --product acme-thermostat --version 1.1.0 --counter 2 \
	--hw tstat-rev-b --image fw2.bin --out rel2.fwm
expect_rc 0 "$FWC" manifest sign --key rel2.key rel2.fwm
CID2=$("$FWC" cid fw2.bin)
# The wrong image: refused before anything is published (exit 1, nonce unused).
expect_err 1 "fw.bin is $CID, not the manifest's $CID2" \
	"$FWC" release publish rel2.fwm --image fw.bin --key relbot.key --nonce 2
as relbot release publish rel2.fwm --image fw2.bin
for _ in $(seq 1 50); do
	"$FWC" content ls >pins.txt
	grep -q "^$CID2 pinned release,upload$" pins.txt && break
	sleep 0.1
done
grep -q "^$CID2 pinned release,upload$" pins.txt || fail "release 2 not pinned: $(cat pins.txt)"

# --- restart: releases are pinned again from the ledger (the pin row is kept anyway) ---
stop
rm -rf "$T/d/blocks"
start
"$FWC" content ls >pins.txt
expect_eq "$(grep "^$CID " pins.txt)" "$CID pinned release" "pins after restart"
# The store is empty and there is no peer: the release's DAG is reported incomplete.
expect_rc 0 "$FWC" content status "$CID"
expect_eq "$OUT" "this node: incomplete, pinned (a block is missing)" "status after losing the store"
echo "$CHECKS checks, $FAILS failed"
[ "$FAILS" = 0 ]
