#!/usr/bin/env bash
# The fleet end to end against a real fwchaind (--dev, one validator, 127.0.0.1, stopped by
# PID; every wait bounded):
# - a product with a 2-of-2 root set and a 2-of-2 release set, a publisher, an operator;
# - release 1 (300000 bytes: two UnixFS leaves) is published with its content;
# - `fwchain device provision` makes a device folder; it refuses first a trust file whose
#   validator key is not the node's (nothing is created), and a trust file naming other root
#   keys for the product;
# - `fwagent check` on that folder installs release 1 (the slot holds the image's bytes);
# - `fwagent sim --provision` registers 20 simulated devices and updates them to release 1;
#   between its two cycles release 2 (1000000 bytes: four leaves) is published, and the 20
#   devices update again; the ledger's events API lists, for every one of them, a `confirmed`
#   event of counter 1 and one of counter 2, relayed by the device itself; the simulator ends
#   with two shared slot images and no per-device slot buffer;
# - `fwagent run --cycles 2` takes the provisioned device to release 2, then finds it up to
#   date; `fwagent run` without a bound stops on SIGTERM; `fwagent status --config` shows the
#   confirmed slot; a configuration naming a keystore as the device key (passphrase file)
#   gives that key, and a wrong passphrase is refused.
source "$FWC_SRC/tests/node/lib.sh"
CLI="$FWC_BIN/fwchain"
AG="$FWC_BIN/fwagent"
export FWCHAIN_PASSPHRASE=fleet-e2e-pass
cd "$TMP"
start_node n1 "$TMP/node"
export FWCHAIN_NODE="$URL"
admin="$TMP/node/admin.keystore"

for k in root1 root2 rel1 rel2 publisher ops; do
	"$CLI" keygen --out "$k.key" >/dev/null || fail "keygen $k"
done
"$CLI" product register --id thermo --name Thermo --root-keys root1.key,root2.key \
	--root-threshold 2 --key "$admin" --wait 10 >/dev/null || fail "product register"
"$CLI" keyset create --product thermo --set release --version 1 --keys rel1.key,rel2.key \
	--threshold 2 --sign-key root1.key --out rs.stmt >/dev/null || fail "keyset create"
"$CLI" keyset sign --sign-key root2.key rs.stmt >/dev/null || fail "keyset sign"
"$CLI" keyset register rs.stmt --key "$admin" --wait 10 >/dev/null || fail "keyset register"
"$CLI" member add --member publisher.key --role release --key "$admin" --wait 10 >/dev/null ||
	fail "member add publisher"
"$CLI" member add --member ops.key --role operator --key "$admin" --wait 10 >/dev/null ||
	fail "member add operator"

publish() { # publish VERSION COUNTER SIZE
	python3 -c '
import hashlib, sys
n, tag = int(sys.argv[1]), sys.argv[2].encode()
sys.stdout.buffer.write(b"".join(hashlib.sha256(tag + k.to_bytes(8, "little")).digest()
                                 for k in range((n + 31) // 32))[:n])' "$3" "v$1" >"img-$2.bin"
	"$CLI" manifest create --product thermo --version "$1" --counter "$2" --channel stable \
		--hw rev-b --image "img-$2.bin" --out "r$2.fwm" >/dev/null || fail "manifest $2"
	"$CLI" manifest sign --key rel1.key "r$2.fwm" >/dev/null || fail "sign $2"
	"$CLI" manifest sign --key rel2.key "r$2.fwm" >/dev/null || fail "sign $2"
	"$CLI" release publish "r$2.fwm" --image "img-$2.bin" --key publisher.key --wait 10 \
		>/dev/null || fail "publish $2"
}
publish 1.0.0 1 300000

chain=$(json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
	json_field node/genesis.json chain_id)
read -r vname vkey < <(python3 -c 'import json; v=json.load(open("node/genesis.json"))["validators"][0]; print(v["name"], v["key"])')
"$CLI" trust create --origin "$chain" --validator "$vname=$vkey" --quorum 1 --out base.trust \
	>/dev/null || fail "trust create"

# --- provisioning: refused under another validator key, or other root keys ---
"$CLI" keygen --alg ed25519 --out other-validator.key >/dev/null || fail "keygen ed25519"
"$CLI" trust create --origin "$chain" --validator "$vname=other-validator.key" --quorum 1 \
	--out wrong.trust >/dev/null || fail "trust create (wrong)"
rc=0
"$CLI" device provision --product thermo --hwid rev-b --trust wrong.trust --out dwrong \
	--key ops.key >out 2>err || rc=$?
[ "$rc" = 1 ] || fail "provision with a wrong validator key: exit $rc $(cat err)"
grep -q "quorum" err || fail "provision refusal message: $(cat err)"
[ ! -e dwrong ] || fail "a refused provisioning left a folder"
"$CLI" trust create --origin "$chain" --validator "$vname=$vkey" --quorum 1 --product thermo \
	--root-keys rel1.key,rel2.key --root-threshold 2 --out wrongroot.trust >/dev/null ||
	fail "trust create (wrong root)"
rc=0
"$CLI" device provision --product thermo --hwid rev-b --trust wrongroot.trust --out dwrong \
	--key ops.key >out 2>err || rc=$?
[ "$rc" = 1 ] && grep -q "root key set" err || fail "provision with other root keys: $rc $(cat err)"
[ ! -e dwrong ] || fail "a refused provisioning left a folder"

# --- provisioning, then one check: release 1 installed ---
"$CLI" device provision --product thermo --hwid rev-b --trust base.trust --out dev1 \
	--key ops.key --slot-size 2097152 --poll-interval 1 --poll-jitter 0 >prov.out ||
	fail "provision: $(cat prov.out)"
grep -q "taken from the node" prov.out || fail "provision output: $(cat prov.out)"
[ "$(stat -c %a dev1/device.key)" = 600 ] || fail "device.key mode"
grep -qx "product thermo" dev1/fwagent.conf && grep -qx "root-version 1" dev1/fwagent.conf ||
	fail "config: $(cat dev1/fwagent.conf)"
grep -q "^root-key " dev1/trust.txt || fail "trust file has no root keys"
devkey=$(sed -n 's/^device: *//p' prov.out)
r=$(http GET "/v1/devices/$devkey")
expect_status 200 "$r" "device registered"
"$AG" check --config dev1/fwagent.conf >check.out 2>check.err ||
	fail "check: $(cat check.out check.err)"
grep -q "updated: counter 0 -> 1 (slot B, 300000 bytes)" check.out || fail "check: $(cat check.out)"
cmp -n 300000 img-1.bin dev1/slots/slot-b || fail "slot B does not hold release 1"

# --- a simulated fleet of 20, provisioned in bulk: release 1, then release 2 published
#     between two cycles; the ledger says so for every device ---
N=20
cat >publish2.sh <<EOS
set -e
cd "$TMP"
CLI="$CLI"
$(declare -f fail publish)
publish 2.0.0 2 1000000
EOS
"$AG" sim --devices $N --node "$URL" --trust dev1/trust.txt --hw rev-b --provision \
	--operator ops.key --keys keys.txt --cycles 2 --between "bash $TMP/publish2.sh" \
	--expect 2 --wait-ledger 30 >sim.out 2>sim.err || fail "sim: $(cat sim.out sim.err)"
grep -q "provision: $N devices registered" sim.out || fail "sim provision: $(cat sim.out)"
grep -q "cycle 1: $N updated, 0 up to date, 0 failed, 0 with unreported" sim.out ||
	fail "sim cycle 1: $(cat sim.out sim.err)"
grep -q "cycle 2: $N updated, 0 up to date, 0 failed, 0 with unreported" sim.out ||
	fail "sim cycle 2: $(cat sim.out sim.err)"
grep -q "result: $N/$N devices run counter 2" sim.out || fail "sim result: $(cat sim.out)"
grep -q "ledger: $N/$N devices have a confirmed event of that counter" sim.out ||
	fail "sim ledger: $(cat sim.out)"
grep -q "memory: 2 shared images, 0 device-owned" sim.out || fail "sim memory: $(cat sim.out)"
[ "$(wc -l <keys.txt)" = $N ] || fail "keys file"
while read -r _ key; do
	r=$(http GET "/v1/events?device=$key&kind=confirmed")
	expect_status 200 "$r" "events of $key"
	python3 - "$TMP/body" "$key" <<'PY' || fail "ledger events of $key: $r"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
counters = sorted(e["counter"] for e in items
                  if e["kind_name"] == "confirmed" and e["relay"] == sys.argv[2])
sys.exit(0 if counters == [1, 2] else 1)
PY
done <keys.txt

# --- fwagent run: bounded by cycles, then stopped by SIGTERM ---
"$AG" run --config dev1/fwagent.conf --cycles 2 --interval 0 >run.out 2>run.err ||
	fail "run: $(cat run.out run.err)"
[ "$(wc -l <run.out)" = 2 ] || fail "run --cycles 2: $(cat run.out)"
sed -n 1p run.out | grep -q "updated: counter 1 -> 2" || fail "run cycle 1: $(cat run.out)"
sed -n 2p run.out | grep -q "up to date: counter 2" || fail "run cycle 2: $(cat run.out)"
"$AG" run --config dev1/fwagent.conf --interval 600 >run2.out 2>&1 &
rpid=$!
PIDS+=("$rpid")
for _ in $(seq 1 100); do
	[ -s run2.out ] && break
	sleep 0.1
done
grep -q "up to date" run2.out || fail "run: $(cat run2.out)"
kill -TERM "$rpid"
for _ in $(seq 1 50); do
	kill -0 "$rpid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$rpid" 2>/dev/null && fail "fwagent run did not stop within 5 s of SIGTERM"
wait "$rpid" || fail "fwagent run exited with $? after SIGTERM"
grep -q "stopped by signal" run2.out || fail "run: $(cat run2.out)"
"$AG" status --config dev1/fwagent.conf >st.out || fail "status"
grep -q "active slot: A (counter 2, 1000000 bytes)" st.out || fail "status: $(cat st.out)"
grep -q "events: 0 queued" st.out || fail "status events: $(cat st.out)"

# --- a device key in a keystore, its passphrase in a file ---
pub=$("$CLI" keygen --out dev-ks.key | sed -n 's/^public key: //p')
[ -n "$pub" ] || fail "keygen output"
printf '%s\n' "$FWCHAIN_PASSPHRASE" >dev-ks.pass
sed -e 's/^key .*/key ..\/dev-ks.key/' -e '$a passphrase-file ../dev-ks.pass' \
	dev1/fwagent.conf >dev1/ks.conf
"$AG" status --config dev1/ks.conf >st2.out 2>&1 || fail "status with a keystore: $(cat st2.out)"
grep -qx "device key: $pub" st2.out || fail "keystore key: $pub vs $(cat st2.out)"
printf 'wrong\n' >dev-ks.pass
"$AG" status --config dev1/ks.conf >st3.out 2>&1 && fail "a wrong passphrase was accepted"
grep -q "dev-ks.key" st3.out || fail "wrong passphrase message: $(cat st3.out)"

stop_node "$NODE_PID"
echo "fleet_e2e.sh: ok"
