#!/usr/bin/env bash
# scripts/demo.sh runs to the end (exit 0) and prints each of its steps and their outcomes.
source "$(dirname "$0")/common.bash"
SRC="$(cd "${FWC_SRC:?}" && pwd)"
unset FWCHAIN_PASSPHRASE # the demo sets its own
expect_rc 0 bash "$SRC/scripts/demo.sh" "$(dirname "$FWC")"
for want in "[1] Create three release keys" "result:     VERIFIED" "refused, exit 1" "Demo complete"; do
	ok
	grep -qF -- "$want" "$T/out" || fail "demo output lacks '$want'"
done
ok
[ "$(grep -c '^result:     FAILED' "$T/out")" = 2 ] || fail "demo should show two refusals"
expect_rc 2 bash "$SRC/scripts/demo.sh"
done_testing
