# Shared set-up of the agent benchmarks (sourced by bench/agent_*.sh, not run; bench/run.sh
# skips *_lib.sh): a dev fwchaind in $BENCH_TMP with a product (2-of-2 root set, 2-of-2
# release set), a publisher and an operator, a trust file for devices, and agent_publish to
# put a release with its content on the ledger. Needs bench/lib.sh sourced first and BIN set.
#
#   agent_setup [fwchaind args]      -> $URL, $NODE_PID, $T (= $BENCH_TMP), trust file $T/trust.txt
#   agent_publish VERSION COUNTER FILE
agent_setup() {
	T=$BENCH_TMP
	export FWCHAIN_PASSPHRASE=bench-agent
	FWCHAIND=${FWCHAIND:-$BIN/fwchaind}
	fwchaind_start "$T/node" "$@"
	URL="http://127.0.0.1:$NODE_PORT"
	export FWCHAIN_NODE=$URL
	local k admin=$T/node/admin.keystore
	for _ in $(seq 1 100); do
		[ -f "$admin" ] && curl -s --max-time 2 "$URL/v1/health" >/dev/null && break
		sleep 0.1
	done
	for k in root1 root2 rel1 rel2 publisher ops; do
		"$BIN/fwchain" keygen --out "$T/$k.key" >/dev/null
	done
	"$BIN/fwchain" product register --id thermo --name Thermo \
		--root-keys "$T/root1.key,$T/root2.key" --root-threshold 2 --key "$admin" --wait 10 \
		>/dev/null || bench_die "product register"
	"$BIN/fwchain" keyset create --product thermo --set release --version 1 \
		--keys "$T/rel1.key,$T/rel2.key" --threshold 2 --sign-key "$T/root1.key" \
		--out "$T/rs.stmt" >/dev/null || bench_die "keyset create"
	"$BIN/fwchain" keyset sign --sign-key "$T/root2.key" "$T/rs.stmt" >/dev/null
	"$BIN/fwchain" keyset register "$T/rs.stmt" --key "$admin" --wait 10 >/dev/null ||
		bench_die "keyset register"
	"$BIN/fwchain" member add --member "$T/publisher.key" --role release --key "$admin" \
		--wait 10 >/dev/null || bench_die "member add"
	"$BIN/fwchain" member add --member "$T/ops.key" --role operator --key "$admin" \
		--wait 10 >/dev/null || bench_die "member add"
	local chain vname vkey
	chain=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chain_id"])' \
		"$T/node/genesis.json")
	read -r vname vkey < <(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["validators"][0]; print(v["name"], v["key"])' "$T/node/genesis.json")
	"$BIN/fwchain" trust create --origin "$chain" --validator "$vname=$vkey" --quorum 1 \
		--product thermo --root-keys "$T/root1.key,$T/root2.key" --root-threshold 2 \
		--out "$T/trust.txt" >/dev/null || bench_die "trust create"
}

agent_publish() { # VERSION COUNTER FILE
	"$BIN/fwchain" manifest create --product thermo --version "$1" --counter "$2" \
		--channel stable --hw rev-b --image "$3" --out "$T/r$2.fwm" >/dev/null ||
		bench_die "manifest create"
	"$BIN/fwchain" manifest sign --key "$T/rel1.key" "$T/r$2.fwm" >/dev/null
	"$BIN/fwchain" manifest sign --key "$T/rel2.key" "$T/r$2.fwm" >/dev/null
	"$BIN/fwchain" release publish "$T/r$2.fwm" --image "$3" --key "$T/publisher.key" \
		--wait 30 >/dev/null || bench_die "release publish"
}
