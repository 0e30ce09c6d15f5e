#!/usr/bin/env bash
# fwchain cid: every row of tests/vectors/kubo-cids.tsv whose `ipfs add` flags map to our
# options, and multi-chunk files (one- and two-level trees) against the independent Python
# reference tests/tools/unixfs_ref.py; --json's size and SHA-256 against Python's hashlib.
source "$(dirname "$0")/common.bash"
SRC="$(cd "${FWC_SRC:?}" && pwd)"

# Kubo's flags -> ours. "-" (plain `ipfs add`) is --cid-version 0 and "--cid-version=1" is
# --cid-version 1. "--raw-leaves" alone keeps CIDv0 for dag-pb nodes, so in general it has no
# equivalent; for a file of one chunk (all these inputs) the root is the raw leaf itself, whose
# CID is CIDv1 raw under either flag, so it maps to --cid-version 1. "--raw-leaves=false" with
# CIDv1 (dag-pb leaves under a CIDv1) has no equivalent and is skipped.
used=0
skipped=0
while IFS=$'\t' read -r label input args expected; do
	case "$label" in '#'* | label | '') continue ;; esac
	case "$args" in
	-) v=0 ;;
	--cid-version=1) v=1 ;;
	--raw-leaves) v=1 ;;
	*) skipped=$((skipped + 1)); continue ;;
	esac
	# input is a JSON string literal; these use only \n escapes, which printf %b expands.
	body=${input#\"}
	body=${body%\"}
	printf '%b' "$body" >in.bin
	[ "$(stat -c %s in.bin)" -le 262144 ] || fail "$label: not a one-chunk input"
	expect_rc 0 "$FWC" cid --cid-version "$v" in.bin
	expect_eq "$OUT" "$expected" "kubo vector $label ($args)"
	used=$((used + 1))
done <"$VEC/kubo-cids.tsv"
[ "$used" -ge 10 ] || fail "only $used Kubo vectors used"
echo "kubo-cids.tsv: $used rows checked, $skipped skipped (no equivalent option)"

# The default is CIDv1 with raw leaves.
printf 'hello world' >hw
expect_rc 0 "$FWC" cid hw
expect_eq "$OUT" bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e "default CID version"
expect_rc 0 "$FWC" cid - <hw
expect_eq "$OUT" bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e "cid of stdin"

# Multi-chunk files against the Python reference: 3 MiB + 7 bytes (12 leaves, one level) and
# 174 x 256 KiB + 1 (two levels), content = the reference's counter-mode SHA-256 stream.
for size in $((3 * 1048576 + 7)) $((174 * 262144 + 1)); do
	python3 - "$SRC/tests/tools" "$size" <<'PY' >ref.txt || fail "python reference failed"
import hashlib, sys
sys.path.insert(0, sys.argv[1])
from unixfs_ref import Importer, prng
data = prng(int(sys.argv[2]))
open("img.bin", "wb").write(data)
print(Importer(data, 1, True).run())
print(Importer(data, 0, False).run())
print(hashlib.sha256(data).hexdigest())
PY
	{ read -r want_v1; read -r want_v0; read -r want_sha; } <ref.txt
	expect_rc 0 "$FWC" cid img.bin
	expect_eq "$OUT" "$want_v1" "CIDv1 of $size bytes"
	expect_rc 0 "$FWC" cid --cid-version 0 img.bin
	expect_eq "$OUT" "$want_v0" "CIDv0 of $size bytes"
	expect_rc 0 "$FWC" cid --json img.bin
	expect_eq "$OUT" "{\"cid\":\"$want_v1\",\"size\":$size,\"sha256\":\"$want_sha\"}" "cid --json"
done

# Bad inputs: exit 2, one line.
expect_err 2 "missing FILE" "$FWC" cid
expect_err 2 "cannot open nofile" "$FWC" cid nofile
mkdir d
expect_err 2 "cannot read d" "$FWC" cid d
expect_err 2 "--cid-version must be 0 or 1" "$FWC" cid --cid-version 2 hw
expect_err 2 "only one FILE" "$FWC" cid hw hw
expect_rc 0 "$FWC" cid --help
[[ "$OUT" == usage:* ]] || fail "cid --help"

done_testing
