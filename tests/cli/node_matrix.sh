#!/usr/bin/env bash
# The access-control matrix over HTTP against a real fwchaind (consortium genesis with a root
# organisation and acme, one validator, on 127.0.0.1, stopped by PID, every wait bounded):
# every write transaction type (docs/state-machine.md §4, types 1..17) sent by every kind of
# sender — an admin, a release member, an operator, a gateway, an auditor (all of acme), a key
# that is no member, and a registered device key — is either accepted and applied, or refused
# with the exact code of the rule that refuses it:
# - at submission (POST /v1/txs, docs/node.md): 403 unknown_sender for a non-member (and for a
#   device sending anything but its own event), 403 role_required for a member without a role
#   the type needs;
# - in the block (GET /v1/txs/{id} status failed, code as stored): root_admin_required for an
#   admin of another organisation than the root one (org-register, validator-set), and
#   role_required for a device relaying another device's event, and for members without the
#   role whose transactions reach the state machine because a membership change was pending
#   (the submission check is skipped then: §"POST /v1/txs");
# - replays and forgeries: the same bytes again (409 duplicate), an old nonce (400
#   nonce_replay), a nonce ahead (400 nonce_gap), another chain's id (400 chain_id_mismatch),
#   a bad signature (400 bad_signature).
# Allowed transactions run in dependency order (a release before its revocation); every
# transaction is built by one test_node_txtool batch per phase.
source "$FWC_SRC/tests/node/lib.sh"
TX="$FWC_BIN/test_node_txtool"

consortium_setup matrix-test 200 3600
mkdir -p "$TMP/tx"
start_fwchaind n1 --genesis "$TMP/genesis.json" --config "$TMP/etc/node.json" --data "$TMP/data" \
	--no-content-check --block-max-txs 256

ROOT=1 ADMIN=10 REL=11 OP=12 GW=13 AUD=14 NONMEMBER=15 DEV=41 DEV2=42
SENDERS="$ADMIN $REL $OP $GW $AUD $NONMEMBER $DEV"
declare -A NONCE EXPECT ID
for s in $ROOT $SENDERS $DEV2 16; do NONCE[$s]=0; done
role_name() {
	case $1 in $ADMIN) echo admin ;; $REL) echo release ;; $OP) echo operator ;; $GW) echo gateway ;;
	$AUD) echo auditor ;; $NONMEMBER) echo non-member ;; $DEV) echo device ;; *) echo "key $1" ;; esac
}

# jfield FIELD: a top-level string field of the compact JSON in $TMP/body, without python
# (the matrix reads hundreds of answers).
jfield() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$TMP/body" | head -n 1; }

BATCH=$TMP/batch.txt
: >"$BATCH"
# add NAME SEED EXPECT KIND ARGS...: queue a transaction of SEED for this phase. EXPECT is
# "committed", "failed CODE" (both consume the nonce) or "HTTP CODE" (refused at submission:
# the nonce stays free).
add() {
	local name=$1 seed=$2 want=$3
	shift 3
	local n=$((NONCE[$seed] + 1))
	case $want in committed | failed*) NONCE[$seed]=$n ;; esac
	echo "$name $seed $n $*" >>"$BATCH"
	EXPECT[$name]=$want
	ORDER+=("$name")
}
# run_phase: build the queued transactions in one txtool run, post them in order, check each
# submission, then wait until every accepted one is final and check its outcome.
run_phase() {
	local name want st code body
	"$TX" batch "$CHAIN" "$BATCH" "$TMP/tx" || fail "txtool batch: $(cat "$BATCH")"
	for name in "${ORDER[@]}"; do
		want=${EXPECT[$name]}
		r=$(http POST /v1/txs --data-binary @"$TMP/tx/$name.tx")
		case $want in
		committed | failed*)
			expect_status 202 "$r" "$name (want $want)"
			ID[$name]=$(jfield id)
			;;
		*)
			[ "${r%% *}" = "${want%% *}" ] && [ "$(jfield code)" = "${want#* }" ] ||
				fail "$name: want $want at submission, got $r"
			;;
		esac
	done
	for name in "${ORDER[@]}"; do
		want=${EXPECT[$name]}
		case $want in committed | failed*) ;; *) continue ;; esac
		st=""
		for _ in $(seq 1 100); do
			http GET "/v1/txs/${ID[$name]}" >/dev/null
			st=$(jfield status)
			[ "$st" != pending ] && break
			sleep 0.1
		done
		code=$(jfield code)
		case $want in
		committed) [ "$st" = committed ] || fail "$name: want committed, got $st $code: $(cat "$TMP/body")" ;;
		*) [ "$st" = failed ] && [ "$code" = "${want#failed }" ] ||
			fail "$name: want $want, got $st $code: $(cat "$TMP/body")" ;;
		esac
		PASSED=$((PASSED + 1))
	done
	: >"$BATCH"
	ORDER=()
}
ORDER=()
PASSED=0

# --- phase 1: acme's members, product and devices (member-add, product-register,
# keyset-register, device-register allowed for their roles) ---
add add-rel $ADMIN committed member-add $REL 2
add add-op $ADMIN committed member-add $OP 3
add add-gw $ADMIN committed member-add $GW 4
add add-aud $ADMIN committed member-add $AUD 5
add add-17 $ADMIN committed member-add 17 5
add product $ADMIN committed product-register thermo Thermostat 2 21,22,23
add relset $ADMIN committed keyset-register thermo 2 31,32,33 21,22
run_phase
add dev41 $OP committed device-register $DEV thermo rev-b
add dev42 $OP committed device-register $DEV2 thermo rev-b
run_phase
RID5=$("$TX" release-id thermo stable 5 rev-b)

# --- phase 2: every type from every sender without the right, refused at submission ---
# One valid payload per type (what it would do does not matter: the sender is refused first).
declare -A ARGS=(
	[1]="org-register gamma Gamma 18"
	[2]="member-add 19 5"
	[3]="member-remove 17"
	[4]="keyset-register thermo 2 31,32,33 21,22"
	[5]="keyset-rotate thermo 2 2 1 34,35 21,22"
	[6]="key-revoke 33"
	[7]="product-register widget Widget 1 21"
	[8]="device-register 43 thermo rev-b"
	[9]="release thermo stable 5 rev-b 31,32"
	[10]="release-revoke $RID5"
	[11]="device-event $DEV 1 1"
	[12]="config-update thermo interval 60"
	[13]="licence-issue l1 thermo $DEV pro"
	[14]="licence-revoke l1 thermo"
	[15]="rollout $RID5 1"
	[16]="postpone device $DEV $RID5 +3600"
	[17]="validator-set 1 1 119"
)
# allowed TYPE SENDER: 0 when the sender's role may send the type (root organisation aside).
allowed() {
	case $1 in
	1 | 2 | 3 | 4 | 5 | 6 | 7 | 17) [ "$2" = $ADMIN ] ;;
	8 | 12 | 13 | 14 | 15 | 16) [ "$2" = $OP ] ;;
	9 | 10) [ "$2" = $REL ] ;;
	11) [ "$2" = $GW ] || [ "$2" = $OP ] || [ "$2" = $DEV ] ;;
	esac
}
refused=0
for t in $(seq 1 17); do
	for s in $SENDERS; do
		allowed "$t" "$s" && continue
		if [ "$s" = $NONMEMBER ] || [ "$s" = $DEV ]; then
			add "t$t-$(role_name "$s")" "$s" "403 unknown_sender" ${ARGS[$t]}
		else
			add "t$t-$(role_name "$s")" "$s" "403 role_required" ${ARGS[$t]}
		fi
		refused=$((refused + 1))
	done
done
run_phase
[ "$refused" = 100 ] || fail "the matrix has $refused refused cells, want 100 (17 types x 7 senders - 19 allowed)"

# --- phase 3: the allowed cells that need no release yet; the root organisation's rights ---
add org-root $ROOT committed org-register beta Beta 16
add vset-root $ROOT committed validator-set 1 1 119
add org-acme $ADMIN "failed root_admin_required" org-register gamma Gamma 18
add vset-acme $ADMIN "failed root_admin_required" validator-set 2 1 119
add remove-17 $ADMIN committed member-remove 17
add release5 $REL committed release thermo stable 5 rev-b 31,32
add config $OP committed config-update thermo interval 60
add licence $OP committed licence-issue l1 thermo $DEV pro
add event-gw $GW committed device-event $DEV 1 1
add event-op $OP committed device-event $DEV2 1 1
run_phase

# --- phase 4: the cells that need the release, and the key-set changes ---
add pause $OP committed rollout "$RID5" 1
add postpone $OP committed postpone device $DEV "$RID5" +3600
add unlicence $OP committed licence-revoke l1 thermo
add rotate $ADMIN committed keyset-rotate thermo 2 2 1 34,35 21,22
add revoke-key $ADMIN committed key-revoke 33
# the device's own event after the gateway's (its sequence number must be greater)
add event-dev $DEV committed device-event $DEV 2 1
add event-dev-other $DEV "failed role_required" device-event $DEV2 2 1
run_phase
add revoke5 $REL committed release-revoke "$RID5"
run_phase
# Every allowed cell of the 17 x 7 matrix ran: types 1..17 by their role.
for t in add-rel relset product dev41 remove-17 rotate revoke-key org-root vset-root release5 \
	revoke5 event-gw event-op event-dev config licence unlicence pause postpone; do
	[ "${EXPECT[$t]}" = committed ] || fail "allowed cell $t not run"
done

# --- phase 5: role refusals inside the block. While a membership change is pending the
# submission check is skipped, so the state machine refuses (status failed, role_required,
# the nonce consumed). The block may be cut between the two posts, and then they are refused
# at submission instead: try at most 3 times until at least one reached the state machine. ---
inblock=0
for attempt in 1 2 3; do
	"$TX" tx "$CHAIN" $ADMIN $((NONCE[$ADMIN] + 1)) member-add $((60 + attempt)) 5 >"$TMP/tx/pending.tx"
	NONCE[$ADMIN]=$((NONCE[$ADMIN] + 1))
	for s in $REL $GW $AUD; do
		"$TX" tx "$CHAIN" "$s" $((NONCE[$s] + 1)) config-update thermo interval 61 \
			>"$TMP/tx/inblock-$s.tx"
	done
	# one curl, one connection: the three right after the membership change
	curl -s --max-time 5 -o /dev/null -X POST --data-binary @"$TMP/tx/pending.tx" "$URL/v1/txs" \
		--next -s --max-time 5 -o "$TMP/ib-$REL" -w '%{http_code}\n' -X POST \
		--data-binary @"$TMP/tx/inblock-$REL.tx" "$URL/v1/txs" \
		--next -s --max-time 5 -o "$TMP/ib-$GW" -w '%{http_code}\n' -X POST \
		--data-binary @"$TMP/tx/inblock-$GW.tx" "$URL/v1/txs" \
		--next -s --max-time 5 -o "$TMP/ib-$AUD" -w '%{http_code}\n' -X POST \
		--data-binary @"$TMP/tx/inblock-$AUD.tx" "$URL/v1/txs" >"$TMP/ib-status" || true
	i=0
	while read -r st; do
		s=$(echo $REL $GW $AUD | cut -d' ' -f$((i + 1)))
		i=$((i + 1))
		cp "$TMP/ib-$s" "$TMP/body"
		if [ "$st" = 403 ]; then
			[ "$(json code)" = role_required ] || fail "in-block $s: 403 $(cat "$TMP/body")"
			continue
		fi
		[ "$st" = 202 ] || fail "in-block $s: HTTP $st $(cat "$TMP/body")"
		NONCE[$s]=$((NONCE[$s] + 1))
		id=$(json id)
		for _ in $(seq 1 100); do
			http GET "/v1/txs/$id" >/dev/null
			[ "$(json status 2>/dev/null || true)" != pending ] && break
			sleep 0.1
		done
		[ "$(json status)" = failed ] && [ "$(json code)" = role_required ] ||
			fail "in-block $s: want failed role_required: $(cat "$TMP/body")"
		inblock=$((inblock + 1))
	done <"$TMP/ib-status"
	[ "$i" = 3 ] || fail "in-block: $i answers"
	[ "$inblock" -gt 0 ] && break
	sleep 0.3 # let the membership change commit before the next attempt
done
[ "$inblock" -gt 0 ] || fail "no role refusal reached the state machine in 3 attempts"

# --- phase 6: replays, gaps, other chains, forgeries ---
r=$(http POST /v1/txs --data-binary @"$TMP/tx/config.tx")
expect_status 409 "$r" "the same committed bytes again"
[ "$(json code)" = duplicate ] || fail "replay: $r"
"$TX" tx "$CHAIN" $OP 1 config-update thermo interval 62 >"$TMP/tx/old-nonce.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/tx/old-nonce.tx")
expect_status 400 "$r" "an old nonce"
[ "$(json code)" = nonce_replay ] || fail "old nonce: $r"
"$TX" tx "$CHAIN" $OP $((NONCE[$OP] + 2)) config-update thermo interval 63 >"$TMP/tx/gap.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/tx/gap.tx")
expect_status 400 "$r" "a nonce ahead"
[ "$(json code)" = nonce_gap ] || fail "gap: $r"
"$TX" tx other-chain $OP $((NONCE[$OP] + 1)) config-update thermo interval 64 >"$TMP/tx/chain.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/tx/chain.tx")
expect_status 400 "$r" "another chain's id"
[ "$(json code)" = chain_id_mismatch ] || fail "chain: $r"
"$TX" sign-bad "$CHAIN" $OP $((NONCE[$OP] + 1)) 12 >"$TMP/tx/badsig.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/tx/badsig.tx")
expect_status 400 "$r" "a bad signature"
[ "$(json code)" = bad_signature ] || fail "signature: $r"
# The nonce the refusals left free is still the operator's next one.
"$TX" tx "$CHAIN" $OP $((NONCE[$OP] + 1)) config-update thermo interval 65 >"$TMP/tx/next.tx"
r=$(http POST /v1/txs --data-binary @"$TMP/tx/next.tx")
expect_status 202 "$r" "the next nonce after refusals"
wait_committed "$(json id)"

# The audit trail holds the failed cells with their codes.
r=$(http GET "/v1/audit?status=failed&limit=100")
expect_status 200 "$r" "audit"
for code in root_admin_required role_required; do
	grep -q "\"$code\"" "$TMP/body" || fail "audit trail lacks $code: $r"
done

stop_node "$NODE_PID"
echo "node_matrix: $PASSED transactions applied or failed as expected, $refused refused at submission, $inblock in-block role refusals"
