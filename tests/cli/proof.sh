#!/usr/bin/env bash
# fwchain proof verify / export and trust create / show, against the fixtures of
# tests/vectors/proof (made by an independent Python generator, see its README): a good bundle
# in both forms verifies, each broken one fails exactly the check it breaks (wrong validator
# key, quorum not met, bad cosignature, altered path, wrong leaf index, a transaction of another
# chain, another origin, bad manifest threshold, bad transaction signature, stale checkpoint),
# the text export is byte-identical to the generator's, trust create rewrites the generator's
# trust file byte for byte, and bad inputs exit 2 with one line.
source "$(dirname "$0")/common.bash"

P="$VEC/proof"
AT=(--at 1700000300)

# expect_check STATUS REGEX: $OUT has a line "STATUS  ..." matching REGEX.
expect_check() {
	ok
	if ! grep -Eq -- "^$1  $2" <<<"$OUT"; then
		fail "no line '$1  $2' in: $OUT"
	fi
}
# expect_nfail N: exactly N FAIL lines.
expect_nfail() {
	expect_eq "$(grep -c '^FAIL  ' <<<"$OUT")" "$1" "number of FAIL lines"
}

# --- the good bundle, CBOR and text ---
for b in good.bundle good.tlog; do
	expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" "$P/$b"
	expect_check ok "checkpoint parses: tree size 7, height 3$"
	expect_check ok "checkpoint origin is fwchain-test-proof, the trusted chain$"
	expect_check ok "checkpoint cosigned by 2 of 3 validators \(quorum 2\)$"
	expect_check ok "checkpoint is 200 s old \(max-age 86400 s\)$"
	expect_check ok "bundle is for the checkpoint's tree size 7$"
	expect_check ok "transaction $(cat "$P/good.txid") is leaf 5 of the checkpoint's tree$"
	expect_check ok "transaction decodes: release, nonce 1, sender ed25519:[0-9a-f]{64}$"
	expect_check ok "transaction is for chain fwchain-test-proof$"
	expect_check ok "transaction carries its sender's valid signature$"
	expect_check ok "manifest of acme-thermostat 1.4.2 \(counter 42\) signed by 2 of 3 release keys \(threshold 2\)$"
	expect_eq "$(tail -n1 <<<"$OUT")" "result  VERIFIED" "last line"
	expect_nfail 0
done
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" - <"$P/good.bundle"
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" --tx-id "$(cat "$P/good.txid")" "$P/good.bundle"
expect_check ok "the bundle proves transaction $(cat "$P/good.txid")$"
expect_rc 1 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" --tx-id "$(printf '%064d' 0)" "$P/good.bundle"
expect_check FAIL "the bundle proves transaction [0-9a-f]{64}, not 0{64}$"
expect_nfail 1

# JSON: one object, every check, parseable.
expect_rc 0 "$FWC" proof verify --json --trust "$P/trust.txt" "${AT[@]}" "$P/good.bundle"
expect_eq "$(wc -l <<<"$OUT")" 1 "--json is one line"
if command -v python3 >/dev/null; then
	got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ok"], d["tx_id"], len(d["checks"]), ",".join(c["check"]+":"+c["status"] for c in d["checks"]))' <<<"$OUT")
	expect_eq "$got" "True $(cat "$P/good.txid") 10 checkpoint:ok,origin:ok,cosignatures:ok,freshness:ok,tree size:ok,inclusion:ok,transaction:ok,chain:ok,signature:ok,manifest:ok" "--json checks"
fi
expect_rc 1 "$FWC" proof verify --json --trust "$P/trust.txt" "${AT[@]}" "$P/bad-path.bundle"
[[ "$OUT" == '{"bundle":'*'"ok":false,'*'"check":"inclusion","status":"fail"'* ]] || fail "--json on a failure: $OUT"

# --- each broken bundle fails exactly its check ---
vfail() { # BUNDLE [TRUST]: exit 1
	expect_rc 1 "$FWC" proof verify --trust "$P/${2:-trust.txt}" "${AT[@]}" "$P/$1"
	expect_eq "$(tail -n1 <<<"$OUT")" "result  FAILED: 1 of 10 checks failed" "$1 result line"
}
vfail good.bundle trust-wrong-validator.txt
expect_check FAIL "checkpoint cosigned by 1 of 3 validators \(quorum 2\)$"
expect_check skip "checkpoint age not checked \(no valid quorum\)$"
vfail quorum-1.bundle
expect_check FAIL "checkpoint cosigned by 1 of 3 validators \(quorum 2\)$"
expect_check ok "transaction [0-9a-f]{64} is leaf 5"
vfail bad-cosig.bundle
expect_check FAIL "checkpoint cosignatures: bad signature: .*fwchain-test-proof/validator-1"
vfail bad-path.bundle
expect_check FAIL "transaction [0-9a-f]{64} is not leaf 5 of the checkpoint's tree: "
expect_check ok "checkpoint cosigned by 2 of 3"
vfail bad-index.bundle
expect_check FAIL "transaction [0-9a-f]{64} is not leaf 4 of the checkpoint's tree: "
vfail other-chain-tx.bundle
expect_check FAIL "transaction is for chain another-chain, not the trusted fwchain-test-proof$"
expect_check ok "transaction [0-9a-f]{64} is leaf 5"
vfail other-origin.bundle
expect_check FAIL "checkpoint origin is another-chain, not the trusted fwchain-test-proof$"
vfail one-sig-manifest.bundle
expect_check FAIL "manifest of acme-thermostat 1.4.2 \(counter 42\): 2 of 3 required, 1 valid$"
vfail rogue-sig-manifest.bundle
expect_check FAIL "manifest of acme-thermostat 1.4.2 \(counter 42\): 2 of 3 required, 1 valid \(key 02[0-9a-f]+ unknown\)$"
vfail bad-tx-sig.bundle
expect_check FAIL "transaction signature does not verify under its sender key$"
expect_check ok "transaction [0-9a-f]{64} is leaf 5"

# Not broken: three signatures, a non-release transaction, an extra entry.
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" "$P/three-sig-manifest.bundle"
expect_check ok "manifest .* signed by 3 of 3 release keys \(threshold 2\)$"
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" "$P/not-release.bundle"
expect_check ok "transaction decodes: config-update, nonce 109,"
expect_check skip "not a release transaction: no manifest to check$"
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" "$P/with-extra.bundle"
expect_check ok "extra 1: transaction [0-9a-f]{64} is leaf 1$"
expect_check ok "extra 1 transaction decodes: keyset-register, nonce 2,"
expect_check ok "extra 1 transaction carries its sender's valid signature$"

# --- freshness: the quorum's time is 1700000100 (the 2nd newest of 100 and 200) ---
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" --at 1700086500 "$P/good.bundle"
expect_check ok "checkpoint is 86400 s old \(max-age 86400 s\)$"
expect_rc 1 "$FWC" proof verify --trust "$P/trust.txt" --at 1700086501 "$P/good.bundle"
expect_check FAIL "checkpoint is 86401 s old, older than max-age 86400 s$"
expect_nfail 1
expect_rc 1 "$FWC" proof verify --trust "$P/trust.txt" --at 2023-11-16T00:00:00Z "$P/good.bundle"
expect_check FAIL "checkpoint is [0-9]+ s old"
expect_rc 1 "$FWC" proof verify --trust "$P/trust.txt" "$P/good.bundle" # now: long after 2023
expect_rc 0 "$FWC" proof verify --trust "$P/trust-noproduct.txt" --at 1 "$P/good.bundle"
expect_check ok "checkpoint is 0 s old"

# --- release keys from the command line ---
expect_rc 0 "$FWC" proof verify --trust "$P/trust-noproduct.txt" "${AT[@]}" "$P/good.bundle"
expect_check skip "manifest of acme-thermostat 1.4.2 not checked: no release key set for product acme-thermostat"
expect_rc 0 "$FWC" proof verify --trust "$P/trust-noproduct.txt" "${AT[@]}" \
	--manifest-keys "$(cat "$P/release-keys.txt")" --manifest-threshold 2 "$P/good.bundle"
expect_check ok "manifest .* signed by 2 of 3 release keys \(threshold 2\)$"
expect_rc 1 "$FWC" proof verify --trust "$P/trust-noproduct.txt" "${AT[@]}" \
	--manifest-keys "$(cat "$P/release-keys.txt")" --manifest-threshold 3 "$P/good.bundle"
expect_check FAIL "manifest .*: 3 of 3 required, 2 valid$"
IFS=, read -r k0 k1 k2 <"$P/release-keys.txt"
echo "$k2" >k2.pub
expect_rc 1 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" \
	--manifest-keys "$k0" --manifest-keys k2.pub --manifest-threshold 2 "$P/good.bundle"
expect_check FAIL "manifest .*: 2 of 2 required, 1 valid"

# --- export ---
expect_rc 0 "$FWC" proof export "$P/good.bundle"
"$FWC" proof export "$P/good.bundle" >exported.tlog
ok
cmp -s exported.tlog "$P/good.tlog" || fail "proof export differs from the generator's tlog-proof"
expect_rc 0 "$FWC" proof export --out out.tlog "$P/good.bundle"
ok
cmp -s out.tlog "$P/good.tlog" || fail "proof export --out differs"
expect_rc 0 "$FWC" proof verify --trust "$P/trust.txt" "${AT[@]}" out.tlog
expect_rc 0 "$FWC" proof export --entry 1 "$P/with-extra.bundle"
[[ "$OUT" == "c2sp.org/tlog-proof@v1"$'\n'"extra "*$'\n'"index 1"$'\n'* ]] || fail "export --entry 1: $OUT"
expect_err 2 "has no entry 2 \(it has the release and 1 extra\)" "$FWC" proof export --entry 2 "$P/with-extra.bundle"
expect_err 2 "has no entry 1" "$FWC" proof export --entry 1 "$P/good.bundle"

# --- input errors: exit 2, one line ---
head -c 100 "$P/good.bundle" >trunc.bundle
printf 'not a bundle' >garbage.bundle
head -c 300 "$P/good.tlog" >trunc.tlog
sed 's/^quorum 2$/quorum 4/' "$P/trust.txt" >bad-trust.txt
expect_err 2 "--trust FILE and BUNDLE are required" "$FWC" proof verify "$P/good.bundle"
expect_err 2 "--trust FILE and BUNDLE are required" "$FWC" proof verify --trust "$P/trust.txt"
expect_err 2 "bundle trunc.bundle .*truncated" "$FWC" proof verify --trust "$P/trust.txt" trunc.bundle
expect_err 2 "bundle garbage.bundle" "$FWC" proof verify --trust "$P/trust.txt" garbage.bundle
expect_err 2 "bundle trunc.tlog \(tlog-proof text" "$FWC" proof verify --trust "$P/trust.txt" trunc.tlog
expect_err 2 "cannot open nofile" "$FWC" proof verify --trust "$P/trust.txt" nofile
expect_err 2 "trust file bad-trust.txt: value out of range: line 6: quorum must be 1..3" "$FWC" proof verify --trust bad-trust.txt "$P/good.bundle"
expect_err 2 "trust file .*good.bundle: malformed input: not a trust file" "$FWC" proof verify --trust "$P/good.bundle" "$P/good.bundle"
expect_err 2 "--manifest-keys and --manifest-threshold go together" "$FWC" proof verify --trust "$P/trust.txt" --manifest-threshold 2 "$P/good.bundle"
expect_err 2 "threshold of --manifest-keys must be 1..1" "$FWC" proof verify --trust "$P/trust.txt" --manifest-keys "$k0" --manifest-threshold 2 "$P/good.bundle"
expect_err 2 "--tx-id: need 64 hex digits" "$FWC" proof verify --trust "$P/trust.txt" --tx-id abc "$P/good.bundle"
expect_err 2 "--at: 'yesterday' is neither" "$FWC" proof verify --trust "$P/trust.txt" --at yesterday "$P/good.bundle"
expect_err 2 "only one BUNDLE" "$FWC" proof verify --trust "$P/trust.txt" "$P/good.bundle" "$P/good.bundle"
expect_err 2 "unknown subcommand 'check'" "$FWC" proof check
expect_err 2 "missing subcommand" "$FWC" proof
expect_rc 0 "$FWC" proof verify --help
expect_rc 0 "$FWC" help proof

# --- trust create rewrites the generator's trust file byte for byte; trust show ---
mapfile -t vks < <(sed -n 's/^validator //p' "$P/trust.txt")
expect_rc 0 "$FWC" trust create --origin fwchain-test-proof --validator "${vks[0]}" \
	--validator "${vks[1]}" --validator "${vks[2]}" --quorum 2 --max-age 86400 \
	--product acme-thermostat --release-keys "$(cat "$P/release-keys.txt")" --release-threshold 2
ok
[ "$OUT"$'\n' = "$(cat "$P/trust.txt")"$'\n' ] || fail "trust create differs from trust.txt: $OUT"
# The same validator as NAME=ed25519:HEX.
vk0key=$("$FWC" trust show --json "$P/trust.txt" | sed 's/.*"validators":\[{"name":"[^"]*","key_id":"[0-9a-f]*","type":4,"key":"\(ed25519:[0-9a-f]*\)".*/\1/')
expect_rc 0 "$FWC" trust create --origin fwchain-test-proof --validator "fwchain-test-proof/validator-0=$vk0key" \
	--validator "${vks[1]}" --validator "${vks[2]}" --quorum 2 --max-age 86400 \
	--product acme-thermostat --release-keys "$k0" --release-keys "$k1,$k2" --release-threshold 2 --out t2.txt
ok
cmp -s t2.txt "$P/trust.txt" || fail "trust create --out with NAME=KEY differs from trust.txt"
expect_err 2 "t2.txt already exists" "$FWC" trust create --origin x --validator "${vks[0]}" --quorum 1 --out t2.txt
expect_rc 0 "$FWC" trust show "$P/trust.txt"
expect_eq "$(field chain)" fwchain-test-proof "trust show chain"
expect_eq "$(field validators)" "3, quorum 2" "trust show validators"
expect_eq "$(field max-age)" "86400 s" "trust show max-age"
[[ "$OUT" == *"  release keys: 2 of 3"* ]] || fail "trust show release keys: $OUT"
expect_rc 0 "$FWC" trust show --json "$P/trust.txt"
[[ "$OUT" == '{"file":'*'"origin":"fwchain-test-proof"'*'"quorum":2,"max_age":86400,"products":[{"id":"acme-thermostat","release":{"threshold":2,"keys":["'* ]] || fail "trust show --json: $OUT"
expect_err 2 "trust file bad-trust.txt: value out of range: line 6" "$FWC" trust show bad-trust.txt
expect_err 2 "--quorum must be 1..1" "$FWC" trust create --origin x --validator "${vks[0]}" --quorum 2
expect_err 2 "--origin, --validator and --quorum are required" "$FWC" trust create --validator "${vks[0]}" --quorum 1
expect_err 2 "these values do not make a valid trust file: malformed input: line 2: origin must be printable ASCII" \
	"$FWC" trust create --origin $'caf\xc3\xa9' --validator "${vks[0]}" --quorum 1
expect_err 2 "these values do not make a valid trust file: malformed input: line 5: product id" \
	"$FWC" trust create --origin x --validator "${vks[0]}" --quorum 1 --product BAD --release-keys "$k0" --release-threshold 1
expect_err 2 "product p has no key set" "$FWC" trust create --origin x --validator "${vks[0]}" --quorum 1 --product p
expect_err 2 "each --\*-keys needs its --\*-threshold" "$FWC" trust create --origin x --validator "${vks[0]}" --quorum 1 --product p --release-keys "$k0"
expect_err 2 "--release-keys needs a --product before it" "$FWC" trust create --origin x --validator "${vks[0]}" --quorum 1 --release-keys "$k0"
expect_err 2 "--validator 'nonsense'" "$FWC" trust create --origin x --validator nonsense --quorum 1
expect_err 2 "--validator 'v=bip340:" "$FWC" trust create --origin x --validator "v=bip340:f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9" --quorum 1
expect_err 2 "duplicate entry: line 4: validator fwchain-test-proof/validator-0 has the same key|duplicate entry: line 4: validator name" \
	"$FWC" trust create --origin x --validator "${vks[0]}" --validator "${vks[0]}" --quorum 1
expect_err 2 "--max-age must be at least 1" "$FWC" trust create --origin x --validator "${vks[0]}" --quorum 1 --max-age 0

done_testing
