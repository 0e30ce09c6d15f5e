#!/usr/bin/env bash
# fwchain manifest: create -> sign with 2 of 3 keys -> verify 2-of-3 (ok), 1 signature (exit 1),
# the same key twice (exit 1), a modified image (exit 1), other keys (exit 1); show (human and
# JSON) against values computed independently (Python hashlib, fwchain cid); atomic in-place
# signing; and every bad input: exit 2, one stderr line, no output file.
source "$(dirname "$0")/common.bash"

for i in 1 2 3 4; do
	expect_rc 0 "$FWC" keygen --out "k$i" "${KDF[@]}"
	eval "pub$i=\$(field 'public key')"
done
expect_rc 0 "$FWC" keygen --alg ed25519 --out ked "${KDF[@]}"
pubed=$(field 'public key')

# A 1 MiB + 3 byte image (5 chunks) of deterministic bytes.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(i * 7 % 256 for i in range(1048579)))' >img.bin
want_sha=$(python3 -c 'import hashlib; print(hashlib.sha256(open("img.bin","rb").read()).hexdigest())')
expect_rc 0 "$FWC" cid img.bin
want_cid=$OUT
expect_rc 0 "$FWC" cid --cid-version 0 img.bin
want_cid0=$OUT

META='{"PID":"tstat","Ver":"1.2.0","File":"img.bin"}'
create=("$FWC" manifest create --product acme-tstat --version 1.2.0 --counter 12 --channel beta
	--hw rev-b --hw rev-c --metadata "$META" --created 2026-01-02T03:04:05Z --image img.bin)
expect_rc 0 "${create[@]}" --out m.fwm
expect_eq "$(sed -n 's/^cid: *//p' <<<"$OUT")" "$want_cid" "create: cid"
expect_eq "$(sed -n 's/^sha256: *//p' <<<"$OUT")" "$want_sha" "create: sha256"
expect_eq "$(sed -n 's/^size: *//p' <<<"$OUT")" 1048579 "create: size"
cp m.fwm unsigned.fwm

# show, before any signature
expect_rc 0 "$FWC" manifest show m.fwm
expect_eq "$(field product)" acme-tstat "show product"
expect_eq "$(field version)" 1.2.0 "show version"
expect_eq "$(field counter)" 12 "show counter"
expect_eq "$(field channel)" beta "show channel"
expect_eq "$(field cid)" "$want_cid" "show cid"
expect_eq "$(field size)" 1048579 "show size"
expect_eq "$(field sha256)" "$want_sha" "show sha256"
expect_eq "$(field hardware)" "rev-b, rev-c" "show hardware"
expect_eq "$(field created)" "1767323045 (2026-01-02T03:04:05Z)" "show created"
expect_eq "$(field metadata)" "$META" "show metadata"
[[ "$(field signatures)" == 0* ]] || fail "show: signatures $(field signatures)"

# sign with k1 and k3 (2 of 3)
expect_rc 0 "$FWC" manifest sign --key k1 m.fwm
cp m.fwm one-sig.fwm
expect_rc 0 "$FWC" manifest sign --key k3 m.fwm
expect_absent "m.fwm.tmp-x" # no temporary left next to it
ls m.fwm.tmp-* >/dev/null 2>&1 && fail "temporary file left after sign"

KEYS=k1,k2,k3
expect_rc 0 "$FWC" manifest verify --keys "$KEYS" --threshold 2 m.fwm
expect_rc 0 "$FWC" manifest verify --keys "$KEYS" --threshold 2 --image img.bin m.fwm
for check in signatures size sha256 cid; do
	[[ "$(field "$check")" == ok* ]] || fail "verify: $check line: $(field "$check")"
done
expect_eq "$(field result)" VERIFIED "verify result"
# keys as public key text and as text files, mixed with keystores
echo "$pub2" >k2.pub
expect_rc 0 "$FWC" manifest verify --keys "$pub1,k2.pub" --keys "$pub3" --threshold 2 --image img.bin m.fwm
expect_rc 0 "$FWC" manifest verify --json --keys "$KEYS" --threshold 2 --image img.bin m.fwm
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["ok"] is True and j["signatures"]["valid"] == 2 and j["signatures"]["threshold"] == 2
assert j["image"]["sha256"]["got"] == sys.argv[2] and j["image"]["cid"]["got"] == sys.argv[3]
' "$OUT" "$want_sha" "$want_cid" || fail "verify --json: $OUT"
ok

# threshold 3 with 2 signatures, one signature, the same key twice, other keys -> exit 1
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 3 m.fwm
[[ "$(field signatures)" == FAILED* ]] || fail "verify: signatures line on failure"
expect_eq "$(field result)" FAILED "verify result on failure"
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 2 --image img.bin one-sig.fwm
cp one-sig.fwm twice.fwm
expect_rc 0 "$FWC" manifest sign --key k1 twice.fwm
[[ "$OUT" == *"replacing"*"1 signature"* ]] || fail "re-sign with the same key: $OUT"
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 2 twice.fwm
expect_rc 1 "$FWC" manifest verify --keys k2,k4 --threshold 1 m.fwm
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 1 unsigned.fwm

# a modified image: one byte changed (size equal), one byte appended
cp img.bin bad.bin
printf '\xff' | dd of=bad.bin bs=1 seek=500000 conv=notrunc status=none
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 2 --image bad.bin m.fwm
[[ "$(field size)" == ok* ]] || fail "size of a same-size tampered image"
[[ "$(field sha256)" == FAILED* ]] || fail "sha256 of a tampered image"
[[ "$(field cid)" == FAILED* ]] || fail "cid of a tampered image"
cp img.bin long.bin && printf 'x' >>long.bin
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 2 --image long.bin m.fwm
[[ "$(field size)" == FAILED* ]] || fail "size of a longer image"

# a manifest whose body was changed after signing: signatures no longer count
python3 - <<'PY'
d = bytearray(open("m.fwm", "rb").read())
i = d.find(b"acme-tstat")
d[i] ^= 0x01
open("tampered.fwm", "wb").write(d)
PY
expect_rc 1 "$FWC" manifest verify --keys "$KEYS" --threshold 1 tampered.fwm

# CIDv0 manifests, Ed25519 signers, and the other fields
printf 'bin\x01\x00ary' >meta.bin
expect_rc 0 "$FWC" manifest create --product p --version v --counter 1 --hw h --image img.bin \
	--cid-version 0 --rollout-percent 12.5 --rollout-not-before 1700000000 \
	--rollout-group beta --rollout-group lab --rollout-region eu --encryption-alg xchacha20poly1305 \
	--encryption-key-id 00ff --licence pro --metadata @meta.bin --out v0.fwm
expect_rc 0 "$FWC" manifest sign --key ked v0.fwm
expect_rc 0 "$FWC" manifest verify --keys "$pubed,k1" --threshold 1 --image img.bin v0.fwm
expect_eq "$(field cid)" "ok: $want_cid0" "CIDv0 manifest"
expect_rc 0 "$FWC" manifest show --json v0.fwm
python3 -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["cid"] == sys.argv[2], j["cid"]
assert j["rollout"] == {"bps": 1250, "not_before": 1700000000, "groups": ["beta", "lab"], "regions": ["eu"]}, j["rollout"]
assert j["encryption"] == {"alg": "xchacha20poly1305", "key_id": "00ff"}
assert j["licence"] == "pro" and j["metadata_hex"] == "62696e0100617279", j.get("metadata_hex")
assert [s["public_key"] for s in j["signatures"]] == [sys.argv[3]]
' "$OUT" "$want_cid0" "$pubed" || fail "show --json of the v0 manifest: $OUT"
ok

# --- bad inputs: exit 2, one line, no output file ---
expect_err 2 "required" "$FWC" manifest create --product p --version v --counter 1 --image img.bin --out o1
expect_absent o1
expect_err 2 "cannot open nope.bin" "$FWC" manifest create --product p --version v --counter 1 --hw h --image nope.bin --out o2
expect_absent o2
expect_err 2 "already exists" "${create[@]}" --out m.fwm
expect_err 2 "--counter: '-1' is not a decimal" "$FWC" manifest create --product p --version v --counter -1 --hw h --image img.bin --out o3
expect_absent o3
expect_err 2 "product is 65 bytes" "$FWC" manifest create --product "$(printf 'p%.0s' {1..65})" --version v --counter 1 --hw h --image img.bin --out o4
expect_absent o4
expect_err 2 "--metadata is 256 bytes" "$FWC" manifest create --product p --version v --counter 1 --hw h --metadata "$(printf 'm%.0s' {1..256})" --image img.bin --out o5
expect_absent o5
expect_err 2 "too large" "$FWC" manifest create --product p --version v --counter 1 --hw h --metadata @img.bin --image img.bin --out o6
expect_absent o6
expect_err 2 "repeats" "$FWC" manifest create --product p --version v --counter 1 --hw h --hw h --image img.bin --out o7
expect_absent o7
: >empty.bin
expect_err 2 "size is 0" "$FWC" manifest create --product p --version v --counter 1 --hw h --image empty.bin --out o8
expect_absent o8
expect_err 2 "--rollout-percent" "$FWC" manifest create --product p --version v --counter 1 --hw h --rollout-percent 100.5 --image img.bin --out o9
expect_err 2 "not a valid date" "$FWC" manifest create --product p --version v --counter 1 --hw h --created 2026-02-30T00:00:00Z --image img.bin --out o9
expect_err 2 "go together" "$FWC" manifest create --product p --version v --counter 1 --hw h --encryption-alg x --image img.bin --out o9
expect_err 2 "--cid-version must be 0 or 1" "$FWC" manifest create --product p --version v --counter 1 --hw h --cid-version 3 --image img.bin --out o9
expect_absent o9
expect_err 2 "no-dir/o10" "${create[@]}" --out no-dir/o10

# malformed, truncated, trailing, not-a-manifest inputs for sign / verify / show
head -c 100 m.fwm >trunc.fwm
cp m.fwm trail.fwm && printf '\x00' >>trail.fwm
for f in trunc.fwm trail.fwm img.bin empty.bin; do
	cp "$f" "$f.orig"
	expect_err 2 "$f" "$FWC" manifest show "$f"
	expect_eq "$OUT" "" "no output for $f"
	expect_err 2 "$f" "$FWC" manifest verify --keys "$KEYS" --threshold 2 "$f"
	expect_err 2 "$f" "$FWC" manifest sign --key k2 "$f"
	cmp -s "$f" "$f.orig" || fail "sign modified the bad input $f"
	ok
done
expect_err 2 "cannot open nope.fwm" "$FWC" manifest show nope.fwm

# wrong passphrase, open permissions, wrong key type: the manifest is unchanged
cp m.fwm keep.fwm
expect_err 2 "wrong passphrase" env FWCHAIN_PASSPHRASE=wrong "$FWC" manifest sign --key k2 m.fwm
cp k2 k2open && chmod 644 k2open
expect_err 2 "permissions too open" "$FWC" manifest sign --key k2open m.fwm
expect_err 2 "keystore img.bin" "$FWC" manifest sign --key img.bin m.fwm
expect_err 2 "keystore k2.pub" "$FWC" manifest sign --key k2.pub m.fwm
cmp -s m.fwm keep.fwm || fail "a failed sign changed the manifest"
ok
ls ./*.tmp-* >/dev/null 2>&1 && fail "temporary files left behind"

# verify usage and key errors
expect_err 2 "required" "$FWC" manifest verify --keys "$KEYS" m.fwm
expect_err 2 "--threshold must be 1..3" "$FWC" manifest verify --keys "$KEYS" --threshold 4 m.fwm
expect_err 2 "--threshold must be 1..3" "$FWC" manifest verify --keys "$KEYS" --threshold 0 m.fwm
expect_err 2 "same key" "$FWC" manifest verify --keys k1,k1 --threshold 1 m.fwm
expect_err 2 "same key" "$FWC" manifest verify --keys "k1,$pub1" --threshold 1 m.fwm
expect_err 2 "empty entry" "$FWC" manifest verify --keys k1,,k2 --threshold 1 m.fwm
expect_err 2 "nokey: neither" "$FWC" manifest verify --keys k1,nokey --threshold 1 m.fwm
expect_err 2 "public key 'bip340:00'" "$FWC" manifest verify --keys bip340:00 --threshold 1 m.fwm
expect_err 2 "keystore img.bin" "$FWC" manifest verify --keys img.bin --threshold 1 m.fwm
expect_err 2 "cannot open nope.bin" "$FWC" manifest verify --keys "$KEYS" --threshold 2 --image nope.bin m.fwm
expect_err 2 "unknown subcommand" "$FWC" manifest frob
for sub in create sign verify show; do
	expect_rc 0 "$FWC" manifest "$sub" --help
	[[ "$OUT" == usage:* ]] || fail "manifest $sub --help"
done

done_testing
