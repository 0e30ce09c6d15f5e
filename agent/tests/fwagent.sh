#!/usr/bin/env bash
# Tests the fwagent tool (a simulated device in a directory) end to end: format, factory
# programming, first power-on recording the provisioned floor, status of both record copies,
# recovery with a RECORD_RESET event when both copies are destroyed, and usage errors. Installs
# need the check-in (not implemented yet) and are tested in C (agent/tests/install.c).
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

# health command plumbing and usage errors
"$bin" boot "$dev" --health "exit 0" >/dev/null || fail "boot with health command"
set +e
"$bin" >/dev/null 2>&1; [ $? -eq 2 ] || fail "usage exit code"
"$bin" boot "$dev" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option exit code"
"$bin" status "$work/nonexistent" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing device"
set -e
echo "fwagent.sh: ok"
