#!/usr/bin/env bash
# fwchain against a real `fwchaind --dev` on 127.0.0.1 (a free port the node picks itself, a
# temporary data directory, stopped by its PID; every wait bounded): status and checkpoint
# (checked against a trust file made from the node's genesis), the whole write path of a
# release — product, key-set statement signed by root keys, manifest signed by release keys,
# release publish — then proof fetch and an offline proof verify of the committed release,
# every typed command committed and its payload decoded back (tx show), offline signing with
# --no-submit and tx submit, the node's refusals as one line with its code (duplicate,
# nonce_replay, nonce_gap, chain_id_mismatch, unknown_tx), and transport errors against a
# closed port and a misbehaving fake node (oversized answer, non-JSON error, control
# characters in a checkpoint).
source "$(dirname "$0")/common.bash"

FWCHAIND="$(dirname "$FWC")/fwchaind"
[ -x "$FWCHAIND" ] || { echo "no fwchaind in $FWC_BIN: skipped"; exit 0; }
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 0; }

NODE_PID=""
FAKE_PID=""
stop_all() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null && wait "$NODE_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}
trap stop_all EXIT

# The node's first start uses FWCHAIN_PASSPHRASE (common.bash's) for its admin keystore.
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
G="$T/d/genesis.json"
CHAIN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chain_id"])' "$G")
VNAME=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["validators"][0]["name"])' "$G")
VKEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["validators"][0]["key"])' "$G")
ADMIN="$T/d/admin.keystore"

# --- status, checkpoint ---
expect_rc 0 "$FWC" status
expect_eq "$(field chain)" "$CHAIN" "status chain"
expect_eq "$(field status)" ok "status"
expect_rc 0 "$FWC" status --json --node "http://127.0.0.1:$PORT/"
[[ "$OUT" == "{\"node\":\"http://127.0.0.1:$PORT\",\"status\":\"ok\",\"chain_id\":\"$CHAIN\",\"height\":"* ]] || fail "status --json: $OUT"
expect_rc 0 "$FWC" trust create --origin "$CHAIN" --validator "$VNAME=$VKEY" --quorum 1 --max-age 600 --out trust.txt
expect_rc 0 "$FWC" checkpoint
expect_eq "$(head -n1 <<<"$OUT")" "$CHAIN" "checkpoint origin line"
grep -q "^— $VNAME " <<<"$OUT" || fail "checkpoint has no validator line: $OUT"
expect_rc 0 "$FWC" checkpoint --trust trust.txt --out cp.note
expect_eq "$(head -n1 cp.note)" "$CHAIN" "checkpoint --out"
"$FWC" trust create --origin other-chain --validator "$VNAME=$VKEY" --quorum 1 >other-trust.txt
expect_err 1 "is for chain $CHAIN, not the trusted other-chain" "$FWC" checkpoint --trust other-trust.txt
"$FWC" keygen --alg ed25519 --out rogue.key "${KDF[@]}" >/dev/null
"$FWC" trust create --origin "$CHAIN" --validator "$VNAME=rogue.key" --quorum 1 >rogue-trust.txt
expect_err 1 "cosignature quorum not met" "$FWC" checkpoint --trust rogue-trust.txt

# --- keys ---
for k in root1 root2 rel1 rel2 rel3 relbot ops euadmin device1; do
	"$FWC" keygen --out "$k.key" "${KDF[@]}" >/dev/null || fail "keygen $k"
done
DEV=$("$FWC" key show --json device1.key | sed 's/.*"public_key":"\([^"]*\)".*/\1/')

# The flow follows docs/state-machine.md's roles and rules, so it stays valid once the node
# applies its state machine: the admin registers the product, its release set and two members
# (a release bot and an operator); each key numbers its own nonces.
declare -A NONCE=([admin]=0 [relbot]=0 [ops]=0 [device1]=0)
keyfile() { [ "$1" = admin ] && echo "$ADMIN" || echo "$1.key"; }
expect_committed() {
	ok
	grep -q "^status:      committed in block [0-9]* at leaf [0-9]*$" <<<"$OUT" || fail "not committed: $OUT"
}
# as WHO ARGS...: run a write command as WHO with its next nonce, --out tx-WHO-N.cbor, --wait.
as() {
	local who=$1
	shift
	NONCE[$who]=$((NONCE[$who] + 1))
	TXF="tx-$who-${NONCE[$who]}.cbor"
	expect_rc 0 "$FWC" "$@" --key "$(keyfile "$who")" --nonce "${NONCE[$who]}" --out "$TXF" --wait 10
	expect_committed
}
# typed PAYLOAD WHO ARGS...: as WHO, then the payload decodes back as PAYLOAD (tx show).
typed() {
	local name=$1
	shift
	as "$@"
	expect_rc 0 "$FWC" tx show "$TXF"
	grep -q "^payload:     [0-9]* bytes, decodes as a $name payload$" <<<"$OUT" || fail "$name payload: $OUT"
	grep -q "^signature:   valid (by the sender)$" <<<"$OUT" || fail "$name signature: $OUT"
}

# --- the release path ---
typed product-register admin product register --id acme-thermostat --name "ACME Thermostat" \
	--root-keys root1.key,root2.key --root-threshold 2
expect_rc 0 "$FWC" keyset create --product acme-thermostat --set release --version 1 \
	--keys rel1.key,rel2.key,rel3.key --threshold 2 --sign-key root1.key --out rel-set.stmt
[[ "$OUT" == "statement: rel-set.stmt (release set version 1 of acme-thermostat, 2 of 3 keys; 1 signature)" ]] || fail "keyset create: $OUT"
expect_err 2 "rel-set.stmt already exists" "$FWC" keyset create --product acme-thermostat --set release --version 1 \
	--keys rel1.key --threshold 1 --sign-key root1.key --out rel-set.stmt
expect_rc 0 "$FWC" keyset sign --sign-key root2.key rel-set.stmt
expect_eq "$OUT" "signed rel-set.stmt; it now has 2 signatures" "keyset sign"
expect_rc 0 "$FWC" keyset sign --sign-key root2.key rel-set.stmt
expect_eq "$OUT" "signed rel-set.stmt; it now has 2 signatures" "keyset sign again replaces"
expect_rc 0 "$FWC" keyset show --json rel-set.stmt
[[ "$OUT" == '{"product":"acme-thermostat","set":"release","version":1,"threshold":2,"keys":['*'],"signers":["bip340:'*'","bip340:'*'"]}' ]] || fail "keyset show --json: $OUT"
typed keyset-register admin keyset register rel-set.stmt
typed member-add admin member add --member relbot.key --role release --label "Release bot"
typed member-add admin member add --member ops.key --role operator

head -c 300000 /dev/urandom >fw.bin
expect_rc 0 "$FWC" manifest create --product acme-thermostat --version 1.0.0 --counter 1 \
	--hw tstat-rev-b --image fw.bin --out rel.fwm
expect_rc 0 "$FWC" manifest sign --key rel1.key rel.fwm
"$FWC" manifest create --product acme-thermostat --version 0.9 --counter 1 --hw h --image fw.bin --out unsigned.fwm >/dev/null
expect_err 2 "manifest unsigned.fwm has no signatures" "$FWC" release publish --key relbot.key --nonce 99 unsigned.fwm
cp rel.fwm one-sig.fwm
expect_rc 0 "$FWC" manifest sign --key rel3.key rel.fwm
# The node refuses a release whose content it does not hold: upload the image first.
expect_rc 0 "$FWC" content add fw.bin --key "$ADMIN"
typed release relbot release publish rel.fwm
cp "$TXF" rel.tx
expect_eq "$(field type)" "release (9)" "release type (tx show)"
RELTX=$(sha256sum rel.tx | cut -c1-64)
"$FWC" tx status "$RELTX" >st.txt
RELLEAF=$(sed -n 's/^status:      committed in block [0-9]* at leaf \([0-9]*\)$/\1/p' st.txt)
[ -n "$RELLEAF" ] || fail "no leaf index for the release"

# --- proof fetch and offline verification ---
expect_rc 0 "$FWC" proof fetch --tx rel.tx --out rel.bundle
[[ "$OUT" == "bundle:      rel.bundle ("*" bytes)"$'\n'"transaction: $RELTX"$'\n'"leaf:        $RELLEAF of "* ]] || fail "proof fetch: $OUT"
"$FWC" trust create --origin "$CHAIN" --validator "$VNAME=$VKEY" --quorum 1 --max-age 600 \
	--product acme-thermostat --release-keys rel1.key,rel2.key,rel3.key --release-threshold 2 >trust-p.txt
expect_rc 0 "$FWC" proof verify --trust trust-p.txt --tx-id "$RELTX" rel.bundle
grep -q "^ok  checkpoint cosigned by 1 of 1 validators (quorum 1)$" <<<"$OUT" || fail "verify cosign: $OUT"
grep -q "^ok  transaction $RELTX is leaf $RELLEAF of the checkpoint's tree$" <<<"$OUT" || fail "verify inclusion: $OUT"
grep -q "^ok  manifest of acme-thermostat 1.0.0 (counter 1) signed by 2 of 3 release keys (threshold 2)$" <<<"$OUT" || fail "verify manifest: $OUT"
grep -q "^ok  transaction decodes: release, nonce 1, sender bip340:" <<<"$OUT" || fail "verify tx: $OUT"
expect_eq "$(tail -n1 <<<"$OUT")" "result  VERIFIED" "proof verify result"
"$FWC" proof export rel.bundle >rel.tlog
expect_rc 0 "$FWC" proof verify --trust trust-p.txt rel.tlog
# The same bundle under a stricter release key set, and under another chain's trust file.
expect_rc 1 "$FWC" proof verify --trust trust-p.txt --manifest-keys rel1.key,rel2.key,rel3.key --manifest-threshold 3 rel.bundle
grep -q "^FAIL  manifest of acme-thermostat 1.0.0 (counter 1): 3 of 3 required, 2 valid" <<<"$OUT" || fail "stricter set: $OUT"
expect_rc 1 "$FWC" proof verify --trust other-trust.txt rel.bundle
grep -q "^FAIL  checkpoint origin is $CHAIN, not the trusted other-chain$" <<<"$OUT" || fail "other chain: $OUT"
grep -q "^FAIL  transaction is for chain $CHAIN, not the trusted other-chain$" <<<"$OUT" || fail "other chain tx: $OUT"

# tx status, the node's refusals.
expect_rc 0 "$FWC" tx status "$RELTX"
grep -q "^status:      committed in block" <<<"$OUT" || fail "tx status: $OUT"
expect_eq "$(field type)" release "tx status type"
expect_rc 0 "$FWC" tx status --json "${RELTX^^}"
[[ "$OUT" == "{\"id\":\"$RELTX\",\"type\":\"release\",\"status\":\"committed\",\"block\":"*",\"leaf_index\":$RELLEAF}" ]] || fail "tx status --json: $OUT"
expect_err 2 "node answered 409 duplicate" "$FWC" tx submit rel.tx
expect_err 2 "node answered 404 unknown_tx" "$FWC" tx status "$(printf '%064d' 0)"
"$FWC" tx send --type 12 --payload-hex a0 --key "$ADMIN" --nonce 77 --chain-id "$CHAIN" --no-submit --out never.cbor >/dev/null
expect_err 2 "node answered 404 unknown_tx" "$FWC" proof fetch --tx never.cbor --out x.bundle
expect_absent x.bundle
expect_err 2 "ID: need 64 hex digits" "$FWC" tx status abc
expect_err 2 "node answered 400 nonce_replay: nonce 1 already used; the next is 2" \
	"$FWC" release publish one-sig.fwm --key relbot.key --nonce 1
expect_err 2 "node answered 400 nonce_gap: nonce 99 skips ahead; the next is 2" \
	"$FWC" release publish one-sig.fwm --key relbot.key --nonce 99
expect_err 2 "node answered 400 chain_id_mismatch" \
	"$FWC" release publish one-sig.fwm --key relbot.key --nonce 2 --chain-id other-chain

# --- every typed command, each by the role the ledger wants: committed, payload decodes back ---
SOON=$(($(date +%s) + 86400))
typed device-register ops device register --device "$DEV" --product acme-thermostat --hwid tstat-rev-b \
	--group lab --group field-eu --region eu --attr site=berlin --attr floor=3 --counter 1
typed rollout-control ops rollout pause --release rel.fwm --reason "field reports"
typed rollout-control ops rollout resume --release rel.fwm
typed postpone ops postpone --release rel.fwm --group lab --until "$SOON" --reason "trade fair"
typed config-update ops config set --product acme-thermostat --group lab --name report-interval --value 60
typed config-update ops config delete --product acme-thermostat --group lab --name report-interval
typed licence-issue ops licence issue --id lic-1 --product acme-thermostat --feature eco-mode --device "$DEV" \
	--not-before 2026-01-01T00:00:00Z --not-after 2030-01-01T00:00:00Z
typed licence-revoke ops licence revoke --id lic-1 --product acme-thermostat --reason refund
typed device-event device1 event send --device-key device1.key --seq 1 --kind installed --release rel.fwm \
	--counter 1 --detail "slot b" --event-time 2026-06-01T00:00:00Z
typed device-event ops event send --device-key device1.key --seq 2 --kind 64
typed device-register ops device update --device device1.key --product acme-thermostat --hwid tstat-rev-b --retire
typed release-revoke relbot release revoke --release rel.fwm --reason "bad build"
expect_rc 0 "$FWC" tx show --json "$TXF"
[[ "$OUT" == '{"id":"'*'","type":"release-revoke","chain_id":"'"$CHAIN"'","sender":"bip340:'*'","nonce":2,'*'"payload_valid":true}' ]] || fail "tx show --json: $OUT"
typed org-register admin org register --id acme-eu --name "ACME Europe" --admin euadmin.key
typed validator-set admin validators set --version 1 --validator "$VNAME=$VKEY" --validator "v2=rogue.key" --quorum 2
"$FWC" keyset create --product acme-thermostat --set release --version 2 --keys rel1.key,rel2.key \
	--threshold 2 --sign-key root1.key --out rot.stmt >/dev/null
"$FWC" keyset sign --sign-key root2.key rot.stmt >/dev/null
typed keyset-rotate admin keyset rotate rot.stmt
expect_err 2 "rot.stmt is a release set version 2: register takes the first release set" \
	"$FWC" keyset register rot.stmt --key "$ADMIN" --nonce 99
typed key-revoke admin key revoke --revoke rel3.key --reason "lost laptop"
typed member-remove admin member remove --member ops.key --role operator

# tx send with raw payload bytes (a config-update {1: product, 4: name, 5: value}), offline
# signing and tx submit; an undecodable payload is shown as such and never sent.
expect_rc 0 "$FWC" tx send --type config-update --payload-hex a0 --key relbot.key --nonce 77 \
	--chain-id "$CHAIN" --no-submit --out bad-payload.cbor
grep -q "^status:      signed, not submitted: bad-payload.cbor$" <<<"$OUT" || fail "--no-submit: $OUT"
expect_rc 0 "$FWC" tx show bad-payload.cbor
grep -q "does NOT decode: missing required field" <<<"$OUT" || fail "raw payload shown: $OUT"
"$FWC" keygen --out ops2.key "${KDF[@]}" >/dev/null
typed member-add admin member add --member ops2.key --role operator
RAW=a3016f61636d652d746865726d6f7374617404617805410a
expect_rc 0 "$FWC" tx send --type config-update --payload-hex "$RAW" --key ops2.key --nonce 1 \
	--chain-id "$CHAIN" --no-submit --out raw.cbor
expect_rc 0 "$FWC" tx show raw.cbor
grep -q "decodes as a config-update payload" <<<"$OUT" || fail "raw config payload: $OUT"
expect_rc 0 "$FWC" tx submit --wait 10 --json raw.cbor
[[ "$OUT" == '{"id":"'"$(sha256sum raw.cbor | cut -c1-64)"'","type":"config-update","nonce":1,"status":"committed","block":'* ]] || fail "tx submit --json: $OUT"
expect_rc 0 "$FWC" tx send --type 12 --payload-hex "$RAW" --key ops2.key --nonce 2
grep -q "^status:      pending$" <<<"$OUT" || grep -q "^status:      committed" <<<"$OUT" || fail "tx send: $OUT"

# Without --nonce the CLI asks the node for the sender's next one (GET /v1/accounts/KEY).
NONCE[admin]=$((NONCE[admin] + 1))
expect_rc 0 "$FWC" member add --member ops.key --role operator --key "$ADMIN" --wait 10
expect_committed
expect_eq "$(field nonce)" "${NONCE[admin]}" "nonce asked from the node"

# --- usage and input errors (nothing is sent) ---
expect_err 2 "--no-submit needs --nonce" "$FWC" org register --id x --name X --admin euadmin.key --key "$ADMIN" --no-submit --out x.cbor
expect_err 2 "missing --key KEYSTORE" "$FWC" org register --id x --name X --admin euadmin.key --nonce 1
expect_err 2 "--id 'Bad' must be" "$FWC" org register --id Bad --name X --admin euadmin.key --key "$ADMIN" --nonce 1
expect_err 2 "--role: 'boss' is not admin" "$FWC" member add --member euadmin.key --role boss --key "$ADMIN" --nonce 1
expect_err 2 "--no-submit needs --out" "$FWC" tx send --type 12 --payload-hex a0 --key "$ADMIN" --nonce 1 --no-submit
expect_err 2 "--type: unknown transaction type 'nope'" "$FWC" tx send --type nope --payload-hex a0 --key "$ADMIN" --nonce 1
expect_err 2 "--kind: vendor kinds are numbers >= 64" "$FWC" event send --device-key device1.key --seq 1 --kind 9 --key "$ADMIN" --nonce 1
expect_err 2 "--group lab is given twice" "$FWC" device register --device "$DEV" --product p --hwid h --group lab --group lab --key "$ADMIN" --nonce 1
printf 'not a manifest' >junk.bin
expect_err 2 "--release junk.bin: neither 64 hex digits nor a signed manifest" "$FWC" rollout halt --release junk.bin --key "$ADMIN" --nonce 1
expect_err 2 "exactly one of --device and --group" "$FWC" postpone --release rel.fwm --until 1 --key "$ADMIN" --nonce 1
expect_err 2 "transaction junk.bin" "$FWC" tx submit junk.bin
expect_err 2 "wrong passphrase" env FWCHAIN_PASSPHRASE=wrong "$FWC" org register --id x --name X --admin euadmin.key --key "$ADMIN" --nonce 1

# --- transport errors ---
stop_node() {
	kill "$NODE_PID"
	for _ in $(seq 1 100); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$NODE_PID" 2>/dev/null
	NODE_PID=""
}
stop_node
expect_err 2 "GET http://127.0.0.1:$PORT/v1/health: .*(refused|connect)" "$FWC" status
expect_err 2 "GET http://127.0.0.1:$PORT/v1/health" "$FWC" org register --id x --name X --admin euadmin.key --key "$ADMIN" --nonce 1
expect_err 2 "node URL 'ftp://x' must start with http:// or https://" "$FWC" status --node ftp://x
expect_err 2 "GET http://127.0.0.1:$PORT/v1/health" env FWCHAIN_NODE= "$FWC" status --node "http://127.0.0.1:$PORT"

# A fake node that misbehaves.
cat >fake.py <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/v1/health":
            self.reply(200, b'{"status":"ok","chain_id":"' + b"x" * (5 * 1024 * 1024) + b'"}')
        elif self.path == "/v1/checkpoint":
            self.reply(200, b"chain\x1b[31m\n1\nAAAA\n\n\xe2\x80\x94 v x\n", "text/plain")
        else:
            self.reply(502, b"<html>bad gateway</html>", "text/html")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_address[1]))
s.timeout = 1
for _ in range(120):  # bounded: at most about two minutes
    s.handle_request()
EOF
python3 fake.py fake.port &
FAKE_PID=$!
for _ in $(seq 1 50); do [ -s fake.port ] && break; sleep 0.1; done
FAKE="http://127.0.0.1:$(cat fake.port)"
expect_err 2 "answer is larger than 4194304 bytes" "$FWC" status --node "$FAKE"
expect_err 2 "the node's checkpoint .*malformed" "$FWC" checkpoint --node "$FAKE"
expect_eq "$OUT" "" "no checkpoint printed"
expect_err 2 "node answered HTTP 502: <html>bad gateway</html>" "$FWC" tx status --node "$FAKE" "$(printf '%064d' 0)"

done_testing
