#!/usr/bin/env bash
# fwchain demo: a k-of-n signed firmware release from keys to verification, then on a ledger,
# in a temporary folder that is removed at the end. Usage: scripts/demo.sh BUILD_DIR
#
# Offline: three release keys are created; a sample image of a few MiB of deterministic bytes
# gets its IPFS CID; a release manifest names the image (CID, size, SHA-256) and the product;
# two of the three keys sign it; a 2-of-3 verification with the image passes; and verification
# refuses a manifest with one signature and an image with one byte changed.
# On the ledger: a development node (fwchaind --dev, 127.0.0.1 only, a port it picks, stopped
# on exit) registers the product with a 2-of-2 root key set, its 2-of-3 release key set and a
# publisher; the release is published and committed; its proof bundle is fetched and verified
# offline against a trust file; a device's check-in gets the bundle; the audit trail lists it.
# The fleet: an operator provisions a device (`fwchain device provision`: key, registration,
# fwagent configuration with checked trust anchors), which installs the release with
# `fwagent check`; then a simulated fleet of 5 more devices (`fwagent sim`, each with its own
# key, state record and slots) is registered in bulk and updates; the ledger's events API
# shows who confirmed which release and when.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/fwchain" ]; then
	echo "usage: scripts/demo.sh BUILD_DIR   (a build folder holding the fwchain binary)" >&2
	exit 2
fi
FWC="$(cd "$1" && pwd)/fwchain"
FWCHAIND="$(cd "$1" && pwd)/fwchaind"
FWAGENT="$(cd "$1" && pwd)/fwagent"
work="$(mktemp -d "${TMPDIR:-/tmp}/fwchain-demo.XXXXXX")"
node_pid=""
cleanup() {
	if [ -n "$node_pid" ]; then
		kill "$node_pid" 2>/dev/null || true
		wait "$node_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
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

if [ ! -x "$FWCHAIND" ] || ! command -v curl >/dev/null; then
	printf '\n(no fwchaind or no curl: the ledger part is skipped)\n'
	printf '\nDemo complete: a 2-of-3 signed release verified; a 1-of-3 manifest and a tampered image were refused.\n'
	exit 0
fi

step "Start a development ledger node (fwchaind --dev, one validator, 127.0.0.1 only)"
echo "$ fwchaind --dev --data node --port 0 --block-interval-ms 200"
# The admin keystore is encrypted with FWCHAIN_PASSPHRASE on the first start.
"$FWCHAIND" --dev --data node --port 0 --block-interval-ms 200 2>node.log &
node_pid=$!
port=""
for _ in $(seq 1 100); do # at most 10 s
	port=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' node.log | tail -n 1)
	[ -n "$port" ] && break
	kill -0 "$node_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || { cat node.log >&2; echo "demo: fwchaind did not start" >&2; exit 1; }
export FWCHAIN_NODE="http://127.0.0.1:$port"
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2:]: d=d[int(k) if isinstance(d, list) else k]
print(d)' "$@"; }
chain=$(jget node/genesis.json chain_id)
vname=$(jget node/genesis.json validators 0 name)
vkey=$(jget node/genesis.json validators 0 key)
echo "  node: $FWCHAIN_NODE, chain $chain, validator $vname"
show status

step "Register the product with its root key set (2 of 2), as the node's admin"
for k in root1 root2 publisher; do
	"$FWC" keygen --out "$k.key" >/dev/null
done
echo "  (created root1.key, root2.key and publisher.key; --nonce is left out: the CLI asks the node)"
show product register --id acme-thermostat --name "ACME Thermostat" \
	--root-keys root1.key,root2.key --root-threshold 2 --key node/admin.keystore --wait 10

step "Register the release key set (2 of 3), signed by both root keys"
show keyset create --product acme-thermostat --set release --version 1 \
	--keys release1.key,release2.key,release3.key --threshold 2 --sign-key root1.key --out release-set.stmt
show keyset sign --sign-key root2.key release-set.stmt
show keyset register release-set.stmt --key node/admin.keystore --wait 10
show member add --member publisher.key --role release --label "Release publisher" \
	--key node/admin.keystore --wait 10

step "Upload the image to the node's content store and publish the release (signed by release keys 1 and 3)"
show release publish release.fwm --image thermostat-1.2.0.bin --key publisher.key --out release.tx \
	--wait 10
relid=$(sha256sum release.tx | cut -c1-64)

step "Fetch its proof bundle and verify it offline against a trust file"
show trust create --origin "$chain" --validator "$vname=$vkey" --quorum 1 --max-age 600 \
	--product acme-thermostat --release-keys release1.key,release2.key,release3.key \
	--release-threshold 2 --out trust.txt
show proof fetch --tx release.tx --out release.bundle
show proof verify --trust trust.txt --tx-id "$relid" release.bundle

step "A device checks in: product acme-thermostat, channel stable, hardware tstat-rev-b, counter 11"
url="$FWCHAIN_NODE/v1/updates?product=acme-thermostat&channel=stable&hw=tstat-rev-b&counter=11"
echo "$ curl -s '$url'"
ctype=$(curl -s --max-time 10 -o checkin.bundle -w '%{content_type}' "$url")
echo "  answer: $ctype, $(stat -c %s checkin.bundle) bytes (the proof bundle of release 1.2.0)"
show proof verify --trust trust.txt checkin.bundle >checkin-verify.txt
grep -E '^([$] fwchain|ok  manifest|result)' checkin-verify.txt
url="$FWCHAIN_NODE/v1/updates?product=acme-thermostat&channel=stable&hw=tstat-rev-b&counter=12"
echo "$ curl -s '$url'   # already on counter 12"
ctype=$(curl -s --max-time 10 -o checkin.txt -w '%{content_type}' "$url")
echo "  answer: $ctype: no update, the newest checkpoint ($(sed -n 2p checkin.txt) log entries)"

step "The audit trail of the product (GET /v1/audit)"
url="$FWCHAIN_NODE/v1/audit?product=acme-thermostat&order=asc"
echo "$ curl -s '$url'"
curl -s --max-time 10 "$url" >audit.json
python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["items"]:
    print("  #%-3s block %-3s %-16s %-9s by %s…" % (r.get("seq"), r.get("height"),
          r.get("type_name"), r.get("status"), r.get("sender", "")[:22]))' audit.json

fleet=""
if [ -x "$FWAGENT" ]; then
	fleet=1
	step "Provision a device: a key, its registration on the ledger, a ready fwagent configuration"
	"$FWC" keygen --out operator.key >/dev/null
	echo "$ fwchain member add --member operator.key --role operator --key node/admin.keystore --wait 10"
	"$FWC" member add --member operator.key --role operator --key node/admin.keystore --wait 10 \
		>/dev/null
	echo "$ fwchain device provision --product acme-thermostat --hwid tstat-rev-b --trust trust.txt \\"
	echo "      --floor 11 --slot-size 4194304 --out tstat-0001 --key operator.key"
	"$FWC" device provision --product acme-thermostat --hwid tstat-rev-b --trust trust.txt \
		--floor 11 --slot-size 4194304 --out tstat-0001 --key operator.key >provision.txt
	grep -E '^(device|checkpoint|root keys):' provision.txt | sed 's/^/  /'
	echo "  tstat-0001/fwagent.conf:"
	grep -v '^#' tstat-0001/fwagent.conf | sed 's/^/    /'

	step "The device checks in, verifies, downloads, installs, reboots, confirms and reports"
	echo "$ fwagent check --config tstat-0001/fwagent.conf"
	"$FWAGENT" check --config tstat-0001/fwagent.conf | sed 's/^/  /'

	step "A simulated fleet of 5 more devices: registered in bulk, each updates on its own"
	echo "$ fwagent sim --devices 5 --node $FWCHAIN_NODE --trust tstat-0001/trust.txt \\"
	echo "      --hw tstat-rev-b --floor 11 --slot-size 4194304 --provision --operator operator.key \\"
	echo "      --expect 12 --wait-ledger 20"
	"$FWAGENT" sim --devices 5 --node "$FWCHAIN_NODE" --trust tstat-0001/trust.txt \
		--hw tstat-rev-b --floor 11 --slot-size 4194304 --provision --operator operator.key \
		--expect 12 --wait-ledger 20 | grep -v '^memory' | sed 's/^/  /'

	step "The ledger's record: who confirmed which release, and when (GET /v1/events)"
	url="$FWCHAIN_NODE/v1/events?product=acme-thermostat&kind=confirmed"
	echo "$ curl -s '$url'"
	curl -s --max-time 10 "$url" >events.json
	python3 -c '
import json, sys, time
items = json.load(open(sys.argv[1]))["items"]
for e in items:
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(e["time"]))
    who = "itself" if e["relay"] == e["device"] else e["relay"][:22] + "..."
    print("  %s...  %s  release counter %s  block %-3s %s  (reported by %s)" % (
          e["device"][:22], e["kind_name"], e.get("counter"), e["height"], when, who))
print("  %d devices confirmed release 1.2.0 (counter 12)" % len(
      {e["device"] for e in items if e.get("counter") == 12}))' events.json
fi

printf '\nDemo complete: a 2-of-3 signed release verified; a 1-of-3 manifest and a tampered image were refused;\n'
printf 'on the ledger the release was published, its proof VERIFIED offline, and served at check-in'
if [ -n "$fleet" ]; then
	printf ';\na provisioned device and a simulated fleet of 5 installed it, and the ledger recorded each confirmation.\n'
else
	printf '.\n'
fi
