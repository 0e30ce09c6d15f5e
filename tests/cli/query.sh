#!/usr/bin/env bash
# The query commands (orgs, products, releases, release show|list, devices, device show|list,
# events, txs, audit) against a real `fwchaind --dev` on 127.0.0.1 (a free port the node picks,
# a temporary data directory, stopped by its PID, every wait bounded). A few transactions are
# made with the existing write commands; then each query's table is checked for the values
# those transactions set, and each --json output is compared byte for byte with the node's own
# answer fetched independently (python3 urllib). Pagination (--limit, --cursor, --all) and bad
# input (unknown product, malformed key or id, missing filters) are checked too.
source "$(dirname "$0")/common.bash"

FWCHAIND="$(dirname "$FWC")/fwchaind"
[ -x "$FWCHAIND" ] || { echo "no fwchaind in $FWC_BIN: skipped"; exit 0; }
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 0; }

NODE_PID=""
stop_all() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
	rm -rf "$T"
}
trap stop_all EXIT

"$FWCHAIND" --dev --data "$T/d" --port 0 --block-interval-ms 100 2>"$T/node.log" &
NODE_PID=$!
PORT=""
for _ in $(seq 1 100); do
	PORT=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/node.log" | tail -n 1)
	[ -n "$PORT" ] && break
	kill -0 "$NODE_PID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$PORT" ] || { cat "$T/node.log" >&2; echo "FAIL: fwchaind did not start" >&2; exit 1; }
export FWCHAIN_NODE="http://127.0.0.1:$PORT"
ADMIN="$T/d/admin.keystore"

# raw PATH: the node's answer body, fetched without fwchain.
raw() {
	python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
		"$FWCHAIN_NODE$1"
}
# same_json PATH CMD...: CMD --json prints exactly the node's answer to PATH.
same_json() {
	local path=$1 want
	shift
	expect_rc 0 "$@" --json
	want=$(raw "$path")
	expect_eq "$OUT" "$want" "$* --json vs GET $path"
}
pub() { "$FWC" key show --json "$1" | sed 's/.*"public_key":"\([^"]*\)".*/\1/'; }

for k in root1 root2 rel1 rel2 relbot ops euadmin device1 device2; do
	"$FWC" keygen --out "$k.key" "${KDF[@]}" >/dev/null || fail "keygen $k"
done
DEV1=$(pub device1.key)
DEV2=$(pub device2.key)
RELBOT=$(pub relbot.key)
ADMINK=$(pub "$ADMIN")

declare -A NONCE=([admin]=0 [relbot]=0 [ops]=0 [device1]=0)
keyfile() { [ "$1" = admin ] && echo "$ADMIN" || echo "$1.key"; }
as() {
	local who=$1
	shift
	NONCE[$who]=$((NONCE[$who] + 1))
	TXF="tx-$who-${NONCE[$who]}.cbor"
	expect_rc 0 "$FWC" "$@" --key "$(keyfile "$who")" --nonce "${NONCE[$who]}" --out "$TXF" --wait 10
	grep -q "^status:      committed in block" <<<"$OUT" || fail "not committed: $* $OUT"
}

# --- a small ledger ---
as admin product register --id acme-thermostat --name "ACME Thermostat" \
	--root-keys root1.key,root2.key --root-threshold 2
"$FWC" keyset create --product acme-thermostat --set release --version 1 --keys rel1.key,rel2.key \
	--threshold 2 --sign-key root1.key --out rel-set.stmt >/dev/null
"$FWC" keyset sign --sign-key root2.key rel-set.stmt >/dev/null
as admin keyset register rel-set.stmt
as admin member add --member relbot.key --role release --label "Release bot"
as admin member add --member ops.key --role operator
head -c 5000 /dev/urandom >fw.bin
"$FWC" manifest create --product acme-thermostat --version 1.0.0 --counter 1 --hw tstat-rev-b \
	--image fw.bin --out rel.fwm >/dev/null
"$FWC" manifest sign --key rel1.key rel.fwm >/dev/null
"$FWC" manifest sign --key rel2.key rel.fwm >/dev/null
as relbot release publish rel.fwm --image fw.bin
RELTX=$(sha256sum "$TXF" | cut -c1-64)
RELID=$(raw /v1/products/acme-thermostat/releases | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
as ops device register --device device1.key --product acme-thermostat --hwid tstat-rev-b --group lab --counter 1
as ops device register --device device2.key --product acme-thermostat --hwid tstat-rev-b
as device1 event send --device-key device1.key --seq 1 --kind installed --release rel.fwm --counter 1
as admin org register --id acme-eu --name "ACME Europe" --admin euadmin.key

# --- orgs ---
expect_rc 0 "$FWC" orgs
[[ "$(head -n1 <<<"$OUT")" == "ID "*"CREATED "*"ROOT NAME" ]] || fail "orgs header: $OUT"
grep -Eq '^acme-eu +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z no +ACME Europe$' <<<"$OUT" || fail "orgs acme-eu: $OUT"
grep -Eq '^root +.* yes +Root organisation$' <<<"$OUT" || fail "orgs root: $OUT"
same_json /v1/orgs "$FWC" orgs
same_json /v1/orgs/acme-eu "$FWC" orgs acme-eu
expect_rc 0 "$FWC" orgs acme-eu
grep -q "^name:         ACME Europe$" <<<"$OUT" || fail "orgs ID name: $OUT"
grep -Eq "^$(pub euadmin.key) .* admin " <<<"$OUT" || fail "orgs ID member: $OUT"
expect_rc 0 "$FWC" orgs root
grep -Eq "^$RELBOT .* release +Release bot$" <<<"$OUT" || fail "orgs root relbot: $OUT"
# pagination: one org a page, then the cursor it names, then --all
expect_rc 0 "$FWC" orgs --limit 1
expect_eq "$(grep -c '^acme-eu \|^root ' <<<"$OUT")" 1 "orgs --limit 1 rows"
CUR=$(sed -n "s/^(more: --cursor '\(.*\)', or --all)$/\1/p" <<<"$OUT")
[ -n "$CUR" ] || fail "orgs --limit 1 names no cursor: $OUT"
expect_rc 0 "$FWC" orgs --limit 1 --cursor "$CUR"
grep -q '^root ' <<<"$OUT" || fail "orgs second page: $OUT"
expect_rc 0 "$FWC" orgs --limit 1 --all --json
expect_eq "$OUT" "$(raw '/v1/orgs?limit=1000')" "orgs --all --json merges pages"

# --- products ---
expect_rc 0 "$FWC" products
grep -Eq '^acme-thermostat +root +1 +1 +.*ACME Thermostat$' <<<"$OUT" || fail "products: $OUT"
same_json /v1/products "$FWC" products
same_json '/v1/products?org=root' "$FWC" products --org root
expect_rc 0 "$FWC" products --org acme-eu
expect_eq "$OUT" "(no rows)" "products --org acme-eu"
expect_rc 0 "$FWC" products acme-thermostat
grep -q "^root set: version 1, 2 of 2 keys$" <<<"$OUT" || fail "product root set: $OUT"
grep -q "^release set: version 1, 2 of 2 keys$" <<<"$OUT" || fail "product release set: $OUT"
grep -Eq "^  $(pub rel1.key) +no$" <<<"$OUT" || fail "product release key: $OUT"
grep -q "^revoked releases: none$" <<<"$OUT" || fail "product revoked: $OUT"
same_json /v1/products/acme-thermostat "$FWC" products acme-thermostat

# --- releases ---
expect_rc 0 "$FWC" releases --product acme-thermostat
grep -Eq "^$RELID [a-z0-9._-]+ +1 +active +no +.* 1\.0\.0$" <<<"$OUT" || fail "releases: $OUT"
same_json /v1/products/acme-thermostat/releases "$FWC" releases --product acme-thermostat
expect_rc 0 "$FWC" releases --product acme-thermostat --channel nosuch
expect_eq "$OUT" "(no rows)" "releases --channel nosuch"
expect_rc 0 "$FWC" release list --product acme-thermostat
grep -q "^$RELID " <<<"$OUT" || fail "release list: $OUT"
expect_rc 0 "$FWC" release show "$RELID"
grep -q "^version:      1.0.0$" <<<"$OUT" || fail "release show version: $OUT"
grep -q "^hardware:     tstat-rev-b$" <<<"$OUT" || fail "release show hardware: $OUT"
grep -q "^size:         5000$" <<<"$OUT" || fail "release show size: $OUT"
grep -q "^sha256:       $(sha256sum fw.bin | cut -c1-64)$" <<<"$OUT" || fail "release show sha256: $OUT"
grep -q "^tx:           $RELTX$" <<<"$OUT" || fail "release show tx: $OUT"
grep -q "^signers:      .*$(pub rel1.key)" <<<"$OUT" || fail "release show signers: $OUT"
same_json "/v1/releases/$RELID" "$FWC" release show "${RELID^^}"

# --- devices ---
expect_rc 0 "$FWC" devices --product acme-thermostat
expect_eq "$(grep -c '^bip340:' <<<"$OUT")" 2 "devices rows"
grep -Eq "^$DEV1 +acme-thermostat +tstat-rev-b +active +1 +lab$" <<<"$OUT" || fail "devices dev1: $OUT"
grep -Eq "^$DEV2 +acme-thermostat +tstat-rev-b +active +0 +-$" <<<"$OUT" || fail "devices dev2: $OUT"
expect_rc 0 "$FWC" devices --product acme-thermostat --group lab
expect_eq "$(grep -c '^bip340:' <<<"$OUT")" 1 "devices --group lab"
expect_rc 0 "$FWC" device list --status retired
expect_eq "$OUT" "(no rows)" "device list --status retired"
same_json '/v1/devices?product=acme-thermostat&group=lab' "$FWC" devices --product acme-thermostat --group lab
expect_rc 0 "$FWC" device show device1.key
grep -q "^key:          $DEV1$" <<<"$OUT" || fail "device show key: $OUT"
grep -q "^groups:       lab$" <<<"$OUT" || fail "device show groups: $OUT"
grep -Eq "^[0-9T:Z-]+ +1 +installed +.* $RELID " <<<"$OUT" || fail "device show history: $OUT"
same_json "/v1/devices/$DEV1" "$FWC" device show "$DEV1"

# --- events ---
expect_rc 0 "$FWC" events --device device1.key
grep -Eq "^[0-9T:Z-]+ +$DEV1 1 +installed +$RELID$" <<<"$OUT" || fail "events: $OUT"
same_json "/v1/events?product=acme-thermostat&kind=installed" "$FWC" events --product acme-thermostat --kind installed
expect_rc 0 "$FWC" events --product acme-thermostat --kind confirmed
expect_eq "$OUT" "(no rows)" "events --kind confirmed"
expect_rc 0 "$FWC" events --product acme-thermostat --since 2099-01-01T00:00:00Z
expect_eq "$OUT" "(no rows)" "events --since the future"

# --- txs ---
expect_rc 0 "$FWC" txs --sender relbot.key
grep -Eq "^$RELTX release +1 +[0-9]+ +applied +- +$RELID$" <<<"$OUT" || fail "txs: $OUT"
same_json "/v1/txs?sender=$RELBOT&type=9" "$FWC" txs --sender "$RELBOT" --type release
expect_rc 0 "$FWC" txs --sender "$ADMIN" --all --limit 2
expect_eq "$(grep -c '^[0-9a-f]\{64\} ' <<<"$OUT")" 5 "txs --all of the admin (5 sent)"

# --- audit ---
expect_rc 0 "$FWC" audit --product acme-thermostat --type release
grep -Eq "^[0-9]+ +[0-9T:Z-]+ +release +applied +$RELBOT $RELID$" <<<"$OUT" || fail "audit: $OUT"
same_json "/v1/audit?actor=$ADMINK&order=desc" "$FWC" audit --actor "$ADMIN" --order desc
expect_rc 0 "$FWC" audit --device device1.key --json --all --limit 1
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["next"] is None and len(d["items"])>=2' "$OUT" \
	|| fail "audit --device --all: $OUT"

# --- bad input ---
expect_err 2 "404 unknown_product: no product 'nope'" "$FWC" releases --product nope
expect_err 2 "404 unknown_product" "$FWC" products nope
expect_err 2 "404 unknown_release" "$FWC" release show "$(printf '%064d' 0)"
expect_err 2 "^fwchain: device show: .*bip340:zz" "$FWC" device show bip340:zz
expect_err 2 "^fwchain: txs: .*--sender" "$FWC" txs
expect_err 2 "^fwchain: txs: " "$FWC" txs --sender ed25519:1234
expect_err 2 "^fwchain: events: give --device or --product" "$FWC" events
expect_err 2 "^fwchain: release show: a release id is 64 hex digits" "$FWC" release show abc
expect_err 2 "^fwchain: products: a product id 'Bad/Id' is not an id" "$FWC" products Bad/Id
expect_err 2 "^fwchain: orgs: --limit" "$FWC" orgs --limit 0
expect_err 2 "^fwchain: devices: --group needs --product" "$FWC" devices --group lab
expect_err 2 "^fwchain: audit: --until is before --since" "$FWC" audit --since 100 --until 99
expect_err 2 "^fwchain: audit: --type: unknown transaction type" "$FWC" audit --type nosuch
expect_rc 0 "$FWC" device show --help
grep -q "^usage: fwchain device show KEY" <<<"$OUT" || fail "device show --help: $OUT"
expect_rc 0 "$FWC" help orgs
grep -q "^usage: fwchain orgs" <<<"$OUT" || fail "help orgs: $OUT"

done_testing
