#!/usr/bin/env bash
# fwchain keygen / key show: round trip for both algorithms, key ids checked against an
# independent computation (Python's hashlib), passphrase sources, and every bad input giving one
# line on stderr, a non-zero exit and no file.
source "$(dirname "$0")/common.bash"

# key id = SHA256(SHA256(tag) || SHA256(tag) || alg byte || key), tag "fwchain/keyid/v1",
# alg byte 1 = bip340, 2 = ed25519 (docs/formats/keys.md).
keyid_py() {
	python3 -c '
import hashlib, sys
alg, hexkey = sys.argv[1].split(":")
t = hashlib.sha256(b"fwchain/keyid/v1").digest()
print(hashlib.sha256(t + t + bytes([{"bip340": 1, "ed25519": 2}[alg]]) + bytes.fromhex(hexkey)).hexdigest())
' "$1"
}

for alg in bip340 ed25519; do
	expect_rc 0 "$FWC" keygen --alg "$alg" --out "k-$alg" "${KDF[@]}"
	gen_pub=$(field "public key")
	gen_id=$(field "key id")
	expect_eq "$(field algorithm)" "$alg" "keygen algorithm"
	[[ "$gen_pub" =~ ^$alg:[0-9a-f]{64}$ ]] || fail "keygen public key '$gen_pub'"
	expect_eq "$gen_id" "$(keyid_py "$gen_pub")" "key id of $alg key (independent)"
	expect_eq "$(stat -c %a "k-$alg")" 600 "keystore mode"

	expect_rc 0 "$FWC" key show "k-$alg"
	expect_eq "$(field "public key")" "$gen_pub" "key show public key"
	expect_eq "$(field "key id")" "$gen_id" "key show key id"

	expect_rc 0 "$FWC" key show --json "k-$alg"
	expect_eq "$OUT" "{\"file\":\"k-$alg\",\"alg\":\"$alg\",\"public_key\":\"$gen_pub\",\"key_id\":\"$gen_id\"}" "key show --json"

	# A file holding the public key text shows the same key.
	echo "$gen_pub" >"pub-$alg"
	expect_rc 0 "$FWC" key show "pub-$alg"
	expect_eq "$(field "key id")" "$gen_id" "key show of a public key file"

	# The key signs, i.e. the keystore decrypts to the key it shows.
	expect_rc 0 "$FWC" sign --key "k-$alg" --msg-hex 00ff
	sig=$OUT
	expect_rc 0 "$FWC" verify-sig --pubkey "$gen_pub" --sig "$sig" --msg-hex 00ff
done

# The default algorithm is bip340; --json on keygen.
expect_rc 0 "$FWC" keygen --out k-default --json "${KDF[@]}"
[[ "$OUT" =~ ^\{\"file\":\"k-default\",\"alg\":\"bip340\",\"public_key\":\"bip340:[0-9a-f]{64}\",\"key_id\":\"[0-9a-f]{64}\"\}$ ]] ||
	fail "keygen --json: $OUT"

# Passphrase sources: --passphrase-file wins over the environment.
printf 'file secret\n' >pass.txt
expect_rc 0 "$FWC" keygen --out k-pf --passphrase-file pass.txt "${KDF[@]}"
expect_rc 0 "$FWC" sign --key k-pf --passphrase-file pass.txt --msg-hex 01
expect_rc 0 env FWCHAIN_PASSPHRASE="file secret" "$FWC" sign --key k-pf --msg-hex 01
expect_err 2 "keystore k-pf: wrong passphrase" "$FWC" sign --key k-pf --msg-hex 01

# --- bad inputs: non-zero, one line, no file ---
expect_err 2 "already exists" "$FWC" keygen --out k-bip340 "${KDF[@]}"
expect_eq "$(field "key id")" "" "no output on failure"
expect_err 2 "missing --out" "$FWC" keygen
expect_err 2 "unknown algorithm 'rsa'" "$FWC" keygen --alg rsa --out k-rsa
expect_absent k-rsa
expect_err 2 "unknown option '--frobnicate'" "$FWC" keygen --frobnicate --out k-x
expect_absent k-x
expect_err 2 "FWCHAIN_PASSPHRASE is set but empty" env FWCHAIN_PASSPHRASE= "$FWC" keygen --out k-empty "${KDF[@]}"
expect_absent k-empty
: >empty-pass
expect_err 2 "passphrase file empty-pass is empty" "$FWC" keygen --out k-e2 --passphrase-file empty-pass "${KDF[@]}"
expect_err 2 "cannot open missing-pass" "$FWC" keygen --out k-e2 --passphrase-file missing-pass "${KDF[@]}"
expect_absent k-e2
# No passphrase source and no terminal (setsid detaches the controlling terminal).
expect_err 2 "no passphrase" env -u FWCHAIN_PASSPHRASE setsid -w "$FWC" keygen --out k-notty "${KDF[@]}"
expect_absent k-notty
expect_err 2 "output file|cannot write keystore|No such file" "$FWC" keygen --out no-such-dir/k "${KDF[@]}"

expect_err 2 "missing FILE" "$FWC" key show
expect_err 2 "nope: neither a public key" "$FWC" key show nope
expect_err 2 "unknown subcommand" "$FWC" key frob
head -c 20 k-bip340 >k-trunc
expect_err 2 "keystore k-trunc" "$FWC" key show k-trunc
head -c 3000 /dev/urandom >k-garbage
expect_err 2 "keystore k-garbage" "$FWC" key show k-garbage
echo "bip340:1234" >pub-short
expect_err 2 "public key file pub-short" "$FWC" key show pub-short
echo "rsa:$(printf '%064d' 0)" >pub-rsa
expect_err 2 "keystore pub-rsa" "$FWC" key show pub-rsa
mkdir adir
expect_err 2 "adir" "$FWC" key show adir

# Open permissions and truncation are refused when the key is used.
cp k-bip340 k-open && chmod 644 k-open
expect_err 2 "keystore k-open: file permissions too open" "$FWC" sign --key k-open --msg-hex 00
cp k-trunc k-trunc2 && chmod 600 k-trunc2
expect_err 2 "keystore k-trunc2" "$FWC" sign --key k-trunc2 --msg-hex 00

# The terminal prompt (echo off, asked twice on keygen), driven through a pseudo-terminal made by
# script(1) when it is there; the typed passphrase must not be echoed.
if command -v script >/dev/null; then
	(sleep 1; printf 'tty secret\n'; sleep 1; printf 'tty secret\n'; sleep 1) |
		env -u FWCHAIN_PASSPHRASE script -qec "'$FWC' keygen --out k-tty ${KDF[*]}" /dev/null >tty.out 2>&1
	ok
	[ -f k-tty ] && grep -q "Repeat passphrase" tty.out && ! grep -q "tty secret" tty.out ||
		fail "keygen on a terminal: $(cat tty.out)"
	expect_rc 0 env FWCHAIN_PASSPHRASE="tty secret" "$FWC" sign --key k-tty --msg-hex 00
	(sleep 1; printf 'one\n'; sleep 1; printf 'two\n'; sleep 1) |
		env -u FWCHAIN_PASSPHRASE script -qec "'$FWC' keygen --out k-tty2 ${KDF[*]}" /dev/null >tty.out 2>&1
	ok
	[ ! -e k-tty2 ] && grep -q "passphrases do not match" tty.out || fail "mismatched passphrases: $(cat tty.out)"
else
	echo "script(1) not found: terminal prompt not tested"
fi

# Help texts.
expect_rc 0 "$FWC" keygen --help
[[ "$OUT" == usage:* ]] || fail "keygen --help"
expect_rc 0 "$FWC" key show --help
[[ "$OUT" == usage:* ]] || fail "key show --help"
expect_rc 0 "$FWC" --help
[[ "$OUT" == *keygen* && "$OUT" == *manifest* ]] || fail "fwchain --help"
expect_err 2 "unknown command" "$FWC" frob
expect_err 2 "missing subcommand" "$FWC" key
expect_err 2 "missing subcommand" "$FWC" manifest
expect_rc 2 "$FWC"
expect_eq "$ERR" "fwchain: missing command (see 'fwchain --help')" "fwchain without a command"

done_testing
