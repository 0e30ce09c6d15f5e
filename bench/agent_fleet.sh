#!/usr/bin/env bash
# A fleet of simulated devices updating from one node on this machine: FLEET (default 10000)
# devices, provisioned in bulk (DEVICE_REGISTER transactions through the public API), update to
# a 1 MiB release (UnixFS, 4 leaves) published with its content on a dev fwchaind (127.0.0.1).
#
# Each device runs the product core through the POSIX port's memory backend (`fwagent sim`):
# check-in and full verification of the node's proof bundle, download of the image (256 KiB
# ranges, one keep-alive connection per simulator process), chunk hashes, a real write and
# read-back of the slot, boot selection with its hash check, health check, confirmation, and
# its own signed DEVICE_EVENT transaction. SIMS (default 2) simulator processes share the
# fleet (disjoint key ranges); the machine's 2 cores are shared by the node and the simulators.
#
# Printed: time to provision; time from the start of the fleet to the last confirmation on
# the ledger (every device's `confirmed` event of counter 1 listed by GET /v1/events); the
# node's CPU time (user+system) and its RSS (current and peak) over the run; failed devices
# (must be 0). Bounded: each simulator gets TIMEOUT seconds (default 1800).
#
# Usage: bench/agent_fleet.sh [BUILD_DIR]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
source bench/agent_lib.sh
BIN=${1:-build/release}
FLEET=${FLEET:-10000}
SIMS=${SIMS:-2}
TIMEOUT=${TIMEOUT:-1800}
for b in "$BIN/fwchaind" "$BIN/fwchain" "$BIN/fwagent"; do
	[ -x "$b" ] || { echo "bench/agent_fleet.sh: SKIP: $b not built (cmake --preset release" \
		"&& cmake --build build/release)"; exit 0; }
done
bench_tmp
agent_setup
head -c 1048576 /dev/urandom >"$T/img.bin"
agent_publish 1.0.0 1 "$T/img.bin"
SIM=("$BIN/fwagent" sim --node "$URL" --trust "$T/trust.txt" --hw rev-b --seed bench)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$NODE_PID/stat"; }
status_kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$NODE_PID/status"; }
tck=$(getconf CLK_TCK)

s=$(date +%s.%N)
timeout "$TIMEOUT" "${SIM[@]}" --devices "$FLEET" --cycles 0 --provision \
	--operator "$T/ops.key" >"$T/provision.out" 2>&1 ||
	{ cat "$T/provision.out" >&2; bench_die "provisioning failed"; }
e=$(date +%s.%N)
prov_s=$(python3 -c "print(f'{$e - $s:.1f}')")

rss0=$(status_kb VmRSS)
cpu0=$(cpu_ticks)
s=$(date +%s.%N)
since=$(($(date +%s) - 2))
per=$(((FLEET + SIMS - 1) / SIMS))
pids=()
for ((k = 0; k < SIMS; k++)); do
	first=$((k * per))
	n=$((FLEET - first < per ? FLEET - first : per))
	timeout "$TIMEOUT" "${SIM[@]}" --devices "$n" --first "$first" --expect 1 \
		>"$T/sim$k.out" 2>"$T/sim$k.err" &
	pids+=($!)
done
fail=0
for ((k = 0; k < SIMS; k++)); do
	wait "${pids[$k]}" || fail=1
done
e_sims=$(date +%s.%N)
# the ledger's view: every device's confirmed event (counter 1), polled until complete
timeout "$TIMEOUT" "${SIM[@]}" --devices "$FLEET" --cycles 0 --expect 1 --wait-ledger 600 \
	--since "$since" \
	>"$T/ledger.out" 2>&1 || fail=1
e=$(date +%s.%N)
cpu1=$(cpu_ticks)
rss1=$(status_kb VmRSS)
hwm=$(status_kb VmHWM)

failed=0 updated=0
for ((k = 0; k < SIMS; k++)); do
	u=$(sed -n 's/^cycle 1: \([0-9]*\) updated.*/\1/p' "$T/sim$k.out")
	f=$(sed -n 's/^cycle 1: .* \([0-9]*\) failed.*/\1/p' "$T/sim$k.out")
	updated=$((updated + ${u:-0}))
	failed=$((failed + ${f:-0}))
	grep -h "^cycle\|^result\|^memory" "$T/sim$k.out" | sed "s/^/  sim $k: /"
	[ -s "$T/sim$k.err" ] && head -n 5 "$T/sim$k.err" | sed "s/^/  sim $k stderr: /"
done
sed -n 's/^/  /p' "$T/ledger.out" | grep "ledger:" || true
python3 - "$FLEET" "$SIMS" "$prov_s" "$s" "$e_sims" "$e" "$cpu0" "$cpu1" "$tck" "$rss0" "$rss1" \
	"$hwm" "$updated" "$failed" "$fail" <<'PY'
import sys
(fleet, sims, prov, s, e_sims, e, cpu0, cpu1, tck, rss0, rss1, hwm, upd, failed, bad) = sys.argv[1:]
fleet, sims = int(fleet), int(sims)
s, e_sims, e = float(s), float(e_sims), float(e)
cpu = (int(cpu1) - int(cpu0)) / int(tck)
print(f"fleet: {fleet} devices, 1 MiB release, {sims} simulator processes, one node")
print(f"provisioning (DEVICE_REGISTER x {fleet}):       {prov} s")
print(f"fleet cycle (all devices updated and reported): {e_sims - s:.1f} s "
      f"({fleet / (e_sims - s):.0f} devices/s)")
print(f"time to the last confirmation on the ledger:  {e - s:.1f} s")
print(f"node CPU over the update:                      {cpu:.1f} s "
      f"({100 * cpu / (e - s):.0f} % of one core)")
print(f"node RSS: {int(rss0) / 1024:.0f} MiB before, {int(rss1) / 1024:.0f} MiB after, "
      f"peak {int(hwm) / 1024:.0f} MiB")
print(f"devices updated: {upd}, failed: {failed}" + ("" if bad == "0" else "  (A RUN FAILED)"))
sys.exit(0 if bad == "0" and int(failed) == 0 and int(upd) == fleet else 1)
PY
fwchaind_stop
