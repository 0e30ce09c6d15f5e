#!/usr/bin/env bash
# Tests the fwagent tool (a simulated device in a directory) end to end: format, factory
# programming, first power-on recording the provisioned floor, status of both record copies,
# recovery with a RECORD_RESET event when both copies are destroyed, provisioning from a trust
# file, and usage errors. Check-ins, installs and reports against a node are tested in C
# (agent/tests/checkin.c, with a local server playing the node).
set -euo pipefail
bin=${FWC_BIN:?}/fwagent
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dev=$work/dev
fail() { echo "FAIL: $*"; exit 1; }

"$bin" format "$dev" 1048576 4096
head -c 100000 /dev/urandom >"$work/factory.img"
"$bin" factory "$dev" "$work/factory.img" | grep -q "100000 bytes" || fail factory
cmp -n 100000 "$work/factory.img" "$dev/slot-a" || fail "slot A content"

"$bin" status "$dev" >"$work/s0"
grep -q "record: blank" "$work/s0" || fail "fresh device not blank"

# first power-on: factory state with the provisioned floor, made durable; check-in refused
# (this device has no trust anchors)
"$bin" boot "$dev" --floor 5 >"$work/b1"
grep -q -- "-> CHECKIN" "$work/b1" || fail "no check-in"
grep -q "IDLE: operation not allowed in this state" "$work/b1" || fail "check-in must refuse without trust anchors"
"$bin" status "$dev" >"$work/s1"
grep -q "record: one copy valid" "$work/s1" || fail "first power-on did not commit"
grep -q "floor: 5" "$work/s1" || fail "floor not recorded"
# a later boot with another provisioned value keeps the recorded floor
"$bin" boot "$dev" --floor 1 >/dev/null
"$bin" status "$dev" | grep -q "floor: 5" || fail "recorded floor replaced"

# both copies destroyed: factory state again, and the reset is reported as an event
printf 'garbage' >"$dev/record-0"
printf 'more garbage' >"$dev/record-1"
"$bin" status "$dev" | grep -q "record: CORRUPT" || fail "corruption not seen"
"$bin" boot "$dev" --floor 3 2>/dev/null >/dev/null
"$bin" status "$dev" >"$work/s2"
grep -q "floor: 3" "$work/s2" || fail "factory floor after reset"
grep -q "type 5 " "$work/s2" || fail "no RECORD_RESET event"

# provisioned from the trust file of docs/formats/trust.md: the device checks in (here to a
# port where nothing listens: a transport error, no event)
src=${FWC_SRC:?}
sed -n '/<!-- example-trust -->/,/<!-- \/example-trust -->/p' "$src/docs/formats/trust.md" |
  sed '1,2d;$d' | sed '$d' >"$work/trust.txt"
head -1 "$work/trust.txt" | grep -q '^fwchain-trust/v1$' || fail "trust example not extracted"
"$bin" format "$work/dev2" 1048576 4096
"$bin" boot "$work/dev2" --trust "$work/trust.txt" --node http://127.0.0.1:1 --hw rev-b \
  --no-clock >"$work/b3"
grep -q -- "-> CHECKIN" "$work/b3" || fail "provisioned device did not check in"
grep -q "IDLE: input/output error" "$work/b3" || fail "unreachable node is not a transport error"
grep -q "events: 0 queued" "$work/b3" || fail "a transport error queued an event"
printf 'fwchain-trust/v1\norigin x\n' >"$work/bad-trust.txt"
set +e
"$bin" boot "$work/dev2" --trust "$work/bad-trust.txt" --node http://127.0.0.1:1 --hw x \
  >/dev/null 2>&1; [ $? -eq 1 ] || fail "bad trust file accepted"
"$bin" boot "$work/dev2" --trust "$work/trust.txt" >/dev/null 2>&1; [ $? -eq 2 ] ||
  fail "--trust without --node"
set -e

# health command plumbing and usage errors
"$bin" boot "$dev" --health "exit 0" >/dev/null || fail "boot with health command"
set +e
"$bin" >/dev/null 2>&1; [ $? -eq 2 ] || fail "usage exit code"
"$bin" boot "$dev" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option exit code"
"$bin" status "$work/nonexistent" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing device"
set -e
echo "fwagent.sh: ok"
