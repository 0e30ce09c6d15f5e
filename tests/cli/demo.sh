#!/usr/bin/env bash
# scripts/demo.sh runs to the end (exit 0) and prints each of its steps and their outcomes:
# the offline part, then the ledger part on its own fwchaind --dev (when fwchaind is built):
# every write committed, the release's proof VERIFIED offline, the check-in bundle (and it
# verifies too), the no-update checkpoint, the audit rows.
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
if [ -x "$(dirname "$FWC")/fwchaind" ] && command -v curl >/dev/null; then
	for want in "type:        product-register" "type:        keyset-register" \
		"type:        member-add" "type:        release" \
		"ok  manifest of acme-thermostat 1.2.0 (counter 12) signed by 2 of 3 release keys (threshold 2)" \
		"answer: application/cbor," "answer: text/plain; charset=utf-8: no update" \
		"product-register applied" "keyset-register  applied" "release          applied" \
		"its proof VERIFIED offline"; do
		ok
		grep -qF -- "$want" "$T/out" || fail "demo output lacks '$want'"
	done
	# Four writes, each committed, the nonces asked from the node (1, 2, 3 for the admin).
	ok
	[ "$(grep -c '^status:      committed in block [0-9]* at leaf [0-9]*$' "$T/out")" = 4 ] ||
		fail "demo should commit four transactions"
	ok
	[ "$(grep '^nonce:' "$T/out" | tr -s ' ' | tr '\n' ,)" = "nonce: 1,nonce: 2,nonce: 3,nonce: 1," ] ||
		fail "demo nonces: $(grep '^nonce:' "$T/out")"
	# The fetched proof and the check-in bundle both verify.
	ok
	[ "$(grep -c '^result  VERIFIED$' "$T/out")" = 2 ] || fail "demo should verify two bundles"
	ok
	grep -q '^result  FAILED' "$T/out" && fail "a bundle failed to verify"
fi
expect_rc 2 bash "$SRC/scripts/demo.sh"
done_testing
