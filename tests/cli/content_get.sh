#!/usr/bin/env bash
# fwchain content add / get against a real `fwchaind --dev` (127.0.0.1, a port the node picks,
# stopped by its PID, every wait bounded): add prints the CID `fwchain cid` computes (CIDv1 and
# CIDv0) and refuses a file it cannot read; a download cut in the middle by a dying gateway
# leaves FILE.part and no FILE, and the next run resumes after the blocks already written
# (fetching only the rest); a resumed FILE.part whose bytes were damaged is detected by hash
# and fetched again; a gateway that only sends bad blocks never produces FILE; the progress
# bar appears on a terminal only; --car uploads a CAR exported by the gateway.
source "$(dirname "$0")/common.bash"

FWCHAIND="$(dirname "$FWC")/fwchaind"
BADGW="${FWC_SRC:-$(dirname "$0")/../..}/tests/tools/bad_gateway.py"
PIDS=()
stop_all() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap stop_all EXIT

"$FWCHAIND" --dev --data "$T/d" --port 0 --block-interval-ms 100 2>"$T/node.log" &
PIDS+=("$!")
PORT=""
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/node.log" | tail -n 1)
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || { cat "$T/node.log" >&2; echo "FAIL: fwchaind did not start" >&2; exit 1; }
export FWCHAIN_NODE="http://127.0.0.1:$PORT"
ADMIN="$T/d/admin.keystore"

# start_gw NAME ARGS...: a tests/tools/bad_gateway.py; sets GW.
start_gw() {
	local name=$1
	shift
	python3 "$BADGW" "$T/$name.port" "$@" 2>"$T/$name.log" &
	PIDS+=("$!")
	for _ in $(seq 1 50); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
	GW="http://127.0.0.1:$(cat "$T/$name.port")"
}

# A 5 MiB + 1 file: 21 leaves of 256 KiB under one root.
python3 -c 'import random,sys; r=random.Random(3); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(5*1024*1024+1)))' >img.bin
expect_rc 0 "$FWC" content add img.bin --key "$ADMIN"
CID=$OUT
expect_eq "$CID" "$("$FWC" cid img.bin)" "content add CID"
expect_rc 0 "$FWC" content add img.bin --key "$ADMIN" --cid-version 0 --json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["cid"]==sys.argv[2] and j["size"]==5*1024*1024+1 and j["blocks"]==22, j' \
	"$OUT" "$("$FWC" cid --cid-version 0 img.bin)" || fail "content add --cid-version 0 --json: $OUT"
expect_err 2 "cannot open nope.bin" "$FWC" content add nope.bin --key "$ADMIN"
expect_err 2 "missing --key" "$FWC" content add img.bin
expect_err 2 "missing -o FILE" "$FWC" content get "$CID"

# --- a gateway that dies after 8 blocks: FILE.part stays, FILE does not appear ---
start_gw dying --proxy "$FWCHAIN_NODE" 8
expect_err 2 "no source gave a good copy of a block .*out.bin.part is kept" \
	"$FWC" content get "$CID" -o out.bin --from "$GW"
expect_absent out.bin
[ -s out.bin.part ] || fail "no out.bin.part after the interrupted download"
# 8 blocks went through: the root, then 7 leaves written and recorded.
expect_eq "$(($(wc -l <out.bin.part.state) - 1))" 7 "leaves recorded in the state file"

# --- resumed from the node: only the remaining leaves are fetched ---
expect_rc 0 "$FWC" content get "$CID" -o out.bin --json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["size"]==5*1024*1024+1 and j["blocks"]==22 and j["fetched_bytes"] < 15*262144, j' \
	"$OUT" || fail "resume fetched too much: $OUT"
grep -q "resuming out.bin.part after 1835008 bytes (7 blocks)" "$T/err" || fail "no resume line: $ERR"
cmp -s img.bin out.bin || fail "resumed download differs"
expect_absent out.bin.part out.bin.part.state

# --- the same for a CIDv0 file (dag-pb leaves: FILE.part holds their data, the resumed run
# rebuilds each leaf around it and checks it hashes to the leaf's CID) ---
CID0=$("$FWC" cid --cid-version 0 img.bin)
start_gw dying0 --proxy "$FWCHAIN_NODE" 8
expect_rc 2 "$FWC" content get "$CID0" -o out0.bin --from "$GW"
expect_absent out0.bin
expect_eq "$(($(wc -l <out0.bin.part.state) - 1))" 7 "CIDv0 leaves recorded in the state file"
expect_rc 0 "$FWC" content get "$CID0" -o out0.bin --json
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); assert j["size"]==5*1024*1024+1 and j["fetched_bytes"] < 15*262144, j' \
	"$OUT" || fail "CIDv0 resume fetched too much: $OUT"
grep -q "resuming out0.bin.part after 1835008 bytes (7 blocks)" "$T/err" || fail "no CIDv0 resume line: $ERR"
cmp -s img.bin out0.bin || fail "resumed CIDv0 download differs"
expect_absent out0.bin.part out0.bin.part.state

# --- a damaged FILE.part is caught by hash and fetched again ---
start_gw dying2 --proxy "$FWCHAIN_NODE" 6
expect_rc 2 "$FWC" content get "$CID" -o out2.bin --from "$GW"
printf '\xff\xff\xff\xff' | dd of=out2.bin.part bs=1 seek=300000 conv=notrunc 2>/dev/null
expect_rc 0 "$FWC" content get "$CID" -o out2.bin
cmp -s img.bin out2.bin || fail "download after a damaged .part differs"
grep -q "resuming out2.bin.part" "$T/err" || fail "no resume line: $ERR"

# --- only bad gateways: nothing but the .part ---
start_gw bad wrong other truncated
expect_err 2 "no source gave a good copy" "$FWC" content get "$CID" -o out3.bin --from "$GW"
expect_absent out3.bin

# --- a bad gateway first and the node second: the bad blocks are skipped ---
expect_rc 0 "$FWC" content get "$CID" -o out4.bin --from "$GW" --from "$FWCHAIN_NODE"
cmp -s img.bin out4.bin || fail "download through a bad then a good gateway differs"
grep -q "do not hash to the CID; trying the next source" "$T/err" || fail "bad source not reported: $ERR"

# --- the progress bar: on a terminal only ---
expect_rc 0 "$FWC" content get "$CID" -o out5.bin
[[ "$ERR" != *"download ["* ]] || fail "progress bar drawn on a non-terminal"
python3 - "$FWC" "$CID" <<'EOF' || fail "no progress bar on a terminal"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "content", "get", sys.argv[2], "-o", "out6.bin"])
out = b""
while True:
    try:
        b = os.read(fd, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
_, st = os.waitpid(pid, 0)
sys.exit(0 if os.WEXITSTATUS(st) == 0 and b"download [" in out and b"100%" in out else 1)
EOF
cmp -s img.bin out6.bin || fail "download on a terminal differs"

# --- a CAR exported by the gateway uploads back as the same root ---
curl -s -o img.car "$FWCHAIN_NODE/ipfs/$CID?format=car" || fail "CAR export"
expect_rc 0 "$FWC" content add img.car --car --key "$ADMIN"
expect_eq "$OUT" "$CID" "CAR upload root"

echo "$CHECKS checks, $FAILS failed"
[ "$FAILS" = 0 ]
