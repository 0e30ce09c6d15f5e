#!/usr/bin/env bash
# fwchain sign / verify-sig: agreement for both algorithms, invalid signatures exit 1, every
# BIP-340 test vector (tests/vectors/bip340-test-vectors.csv) and RFC 8032 test 1 give the
# published verdict, bad inputs exit 2 with one line.
source "$(dirname "$0")/common.bash"

for alg in bip340 ed25519; do
	expect_rc 0 "$FWC" keygen --alg "$alg" --out "k-$alg" "${KDF[@]}"
	pub=$(field "public key")
	hex=${pub#*:}

	# --msg-hex and --file sign the same bytes.
	printf 'firmware \x00\xff bytes' >msg.bin
	msghex=$(od -An -v -tx1 msg.bin | tr -d ' \n')
	expect_rc 0 "$FWC" sign --key "k-$alg" --file msg.bin
	sig_file=$OUT
	[[ "$sig_file" =~ ^[0-9a-f]{128}$ ]] || fail "sign output '$sig_file'"
	expect_rc 0 "$FWC" sign --key "k-$alg" --msg-hex "$msghex"
	sig_hex=$OUT
	for sig in "$sig_file" "$sig_hex"; do
		expect_rc 0 "$FWC" verify-sig --alg "$alg" --pubkey "$hex" --sig "$sig" --msg-hex "$msghex"
		expect_eq "$OUT" valid "verify-sig output"
		expect_rc 0 "$FWC" verify-sig --alg "$alg" --pubkey "$hex" --sig "$sig" --file msg.bin
		expect_rc 0 "$FWC" verify-sig --pubkey "$pub" --sig "$sig" --file - <msg.bin
	done
	expect_rc 0 "$FWC" verify-sig --json --pubkey "$pub" --sig "$sig_hex" --file msg.bin
	expect_eq "$OUT" "{\"valid\":true,\"alg\":\"$alg\"}" "verify-sig --json"

	# Invalid: another message, a changed signature digit, another key -> exit 1.
	expect_rc 1 "$FWC" verify-sig --alg "$alg" --pubkey "$hex" --sig "$sig_hex" --msg-hex "${msghex}00"
	expect_eq "$OUT" invalid "verify-sig output on a bad signature"
	c=${sig_hex:10:1}
	[ "$c" = 0 ] && n=1 || n=0
	flipped="${sig_hex:0:10}$n${sig_hex:11}"
	expect_rc 1 "$FWC" verify-sig --alg "$alg" --pubkey "$hex" --sig "$flipped" --msg-hex "$msghex"
	expect_rc 0 "$FWC" keygen --alg "$alg" --out "k2-$alg" "${KDF[@]}"
	pub2=$(field "public key")
	expect_rc 1 "$FWC" verify-sig --pubkey "$pub2" --sig "$sig_hex" --msg-hex "$msghex"
	expect_rc 1 "$FWC" verify-sig --json --pubkey "$pub2" --sig "$sig_hex" --msg-hex "$msghex"
	expect_eq "$OUT" "{\"valid\":false,\"alg\":\"$alg\"}" "verify-sig --json invalid"

	# Empty and long messages.
	expect_rc 0 "$FWC" sign --key "k-$alg" --msg-hex ''
	expect_rc 0 "$FWC" verify-sig --alg "$alg" --pubkey "$hex" --sig "$OUT" --msg-hex ''
	head -c 1000000 /dev/urandom >big.bin
	expect_rc 0 "$FWC" sign --key "k-$alg" --file big.bin --json
	sig=$(sed 's/.*"signature":"\([0-9a-f]*\)".*/\1/' <<<"$OUT")
	[[ "$OUT" == "{\"alg\":\"$alg\",\"public_key\":\"$pub\",\"signature\":\"$sig\"}" ]] || fail "sign --json: $OUT"
	expect_rc 0 "$FWC" verify-sig --pubkey "$pub" --sig "$sig" --file big.bin
done

# BIP-340 published vectors: verdict TRUE -> 0, FALSE -> 1, for every row (vector 1 included;
# vector 5 is a public key not on the curve, 15-18 have messages of length 0, 1, 17, 100).
n=0
while IFS=, read -r idx _sk pk _aux msg sig result _comment; do
	[ "$idx" = index ] && continue
	want=1
	[ "$result" = TRUE ] && want=0
	expect_rc "$want" "$FWC" verify-sig --alg bip340 --pubkey "$pk" --sig "$sig" --msg-hex "$msg"
	[ "$RC" = "$want" ] || fail "BIP-340 vector $idx"
	n=$((n + 1))
done < <(tr -d '\r' <"$VEC/bip340-test-vectors.csv")
[ "$n" -ge 15 ] || fail "read only $n BIP-340 vectors"

# BIP-340 vector 1 by itself, as the issue names it.
expect_rc 0 "$FWC" verify-sig --alg bip340 \
	--pubkey DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659 \
	--msg-hex 243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89 \
	--sig 6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A
expect_eq "$OUT" valid "BIP-340 vector 1"

# RFC 8032 section 7.1, TEST 1 (empty message).
expect_rc 0 "$FWC" verify-sig --alg ed25519 \
	--pubkey d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a \
	--sig e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b \
	--msg-hex ''

# --- bad inputs: exit 2, one line ---
PK=DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659
SIG=6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A
expect_err 2 "missing --alg" "$FWC" verify-sig --pubkey "$PK" --sig "$SIG" --msg-hex 00
expect_err 2 "unknown algorithm 'rsa'" "$FWC" verify-sig --alg rsa --pubkey "$PK" --sig "$SIG" --msg-hex 00
expect_err 2 "--pubkey: need 64 hex digits, got 62" "$FWC" verify-sig --alg bip340 --pubkey "${PK:2}" --sig "$SIG" --msg-hex 00
expect_err 2 "--pubkey: not a hex string" "$FWC" verify-sig --alg bip340 --pubkey "zz${PK:2}" --sig "$SIG" --msg-hex 00
expect_err 2 "--sig: need 128 hex digits, got 126" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "${SIG:2}" --msg-hex 00
expect_err 2 "--msg-hex: odd number" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "$SIG" --msg-hex 000
expect_err 2 "--msg-hex: not a hex" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "$SIG" --msg-hex 0g
expect_err 2 "exactly one of --file" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "$SIG"
expect_err 2 "exactly one of --file" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "$SIG" --msg-hex 00 --file msg.bin
expect_err 2 "cannot open nofile" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "$SIG" --file nofile
expect_err 2 "is a bip340 key but --alg is ed25519" "$FWC" verify-sig --alg ed25519 --pubkey "bip340:$PK" --sig "$SIG" --msg-hex 00
expect_err 2 "required" "$FWC" verify-sig --alg bip340 --sig "$SIG" --msg-hex 00
expect_err 2 "unexpected argument" "$FWC" verify-sig --alg bip340 --pubkey "$PK" --sig "$SIG" --msg-hex 00 extra

expect_err 2 "missing --key" "$FWC" sign --msg-hex 00
expect_err 2 "exactly one of --file" "$FWC" sign --key k-bip340
expect_err 2 "cannot open nofile" "$FWC" sign --key k-bip340 --file nofile
expect_err 2 "keystore nokey" "$FWC" sign --key nokey --msg-hex 00
expect_err 2 "wrong passphrase" env FWCHAIN_PASSPHRASE=wrong "$FWC" sign --key k-bip340 --msg-hex 00
expect_eq "$OUT" "" "no signature on a wrong passphrase"
expect_err 2 "no passphrase" env -u FWCHAIN_PASSPHRASE setsid -w "$FWC" sign --key k-bip340 --msg-hex 00
expect_err 2 "keystore msg.bin" "$FWC" sign --key msg.bin --msg-hex 00
expect_err 2 "option --key needs a value" "$FWC" sign --msg-hex 00 --key
expect_err 2 "option --json takes no value" "$FWC" sign --json=1 --key k-bip340 --msg-hex 00

done_testing
