#!/usr/bin/env bash
# fwchain demo: a k-of-n signed firmware release from keys to verification, on files, in a
# temporary folder that is removed at the end. Usage: scripts/demo.sh BUILD_DIR
#
# Three release keys are created; a sample image of a few MiB of deterministic bytes gets its
# IPFS CID; a release manifest names the image (CID, size, SHA-256) and the product; two of the
# three keys sign it; a 2-of-3 verification with the image passes; and verification refuses a
# manifest with one signature and an image with one byte changed.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/fwchain" ]; then
	echo "usage: scripts/demo.sh BUILD_DIR   (a build folder holding the fwchain binary)" >&2
	exit 2
fi
FWC="$(cd "$1" && pwd)/fwchain"
work="$(mktemp -d "${TMPDIR:-/tmp}/fwchain-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
export FWCHAIN_PASSPHRASE=demo # the keystores' passphrase (normally asked on the terminal)

n=0
step() {
	n=$((n + 1))
	printf '\n[%d] %s\n' "$n" "$*"
}
show() { # print a command as it is run, then run it
	local a line='$ fwchain'
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:,@=+-]+$ ]]; then
			line+=" $a"
		else
			line+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	echo "$line"
	"$FWC" "$@"
}

step "Create three release keys (BIP-340, each in a passphrase-encrypted keystore)"
for i in 1 2 3; do
	show keygen --out "release$i.key" | sed -n 's/^public key: /  public key: /p'
done

step "Build a sample firmware image: 3 MiB + 5 bytes of deterministic content"
# Counter-mode SHA-256 stream: the same bytes on every machine.
python3 -c '
import hashlib, sys
n = 3 * 1024 * 1024 + 5
out = b"".join(hashlib.sha256(b"fwchain-demo" + k.to_bytes(8, "little")).digest()
               for k in range((n + 31) // 32))[:n]
sys.stdout.buffer.write(out)' >thermostat-1.2.0.bin
echo "  thermostat-1.2.0.bin: $(stat -c %s thermostat-1.2.0.bin) bytes"

step "Compute its IPFS CID (as 'ipfs add --cid-version=1' would)"
show cid thermostat-1.2.0.bin

step "Write the release manifest (product, version, counter, hardware, CID, size, SHA-256)"
show manifest create --product acme-thermostat --version 1.2.0 --counter 12 --channel stable \
	--hw tstat-rev-b --hw tstat-rev-c \
	--metadata '{"PID":"acme-thermostat","Ver":"1.2.0","File":"thermostat-1.2.0.bin"}' \
	--image thermostat-1.2.0.bin --out release.fwm

step "Sign it with release keys 1 and 3 (2 of 3)"
cp release.fwm release-one-signature.fwm
show manifest sign --key release1.key release.fwm
show manifest sign --key release3.key release.fwm
"$FWC" manifest sign --key release1.key release-one-signature.fwm >/dev/null

step "Verify: at least 2 of the 3 release keys signed, and the image matches"
show manifest verify --keys release1.key,release2.key,release3.key --threshold 2 \
	--image thermostat-1.2.0.bin release.fwm

step "Show the manifest"
show manifest show release.fwm

step "A manifest with only one signature is refused (exit 1)"
rc=0
show manifest verify --keys release1.key,release2.key,release3.key --threshold 2 \
	release-one-signature.fwm || rc=$?
[ "$rc" = 1 ] || { echo "demo: expected exit 1, got $rc" >&2; exit 1; }
echo "  -> refused, exit $rc"

step "A tampered image (one byte changed) is refused (exit 1)"
python3 -c '
d = bytearray(open("thermostat-1.2.0.bin", "rb").read())
d[1000000] ^= 0x01
open("tampered.bin", "wb").write(d)'
rc=0
show manifest verify --keys release1.key,release2.key,release3.key --threshold 2 \
	--image tampered.bin release.fwm || rc=$?
[ "$rc" = 1 ] || { echo "demo: expected exit 1, got $rc" >&2; exit 1; }
echo "  -> refused, exit $rc"

printf '\nDemo complete: a 2-of-3 signed release verified; a 1-of-3 manifest and a tampered image were refused.\n'
