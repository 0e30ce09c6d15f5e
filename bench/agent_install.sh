#!/usr/bin/env bash
# The agent's download + verify + install of a 16 MiB image from a local node, against
# `sha256sum` over the same file in the same run (target: at least 0.7x its throughput).
#
# A dev fwchaind (127.0.0.1) holds release 1 with its content (UnixFS, 64 leaves of 256 KiB);
# a device provisioned with `fwchain device provision` (file slots of 32 MiB, the POSIX port
# as shipped: records fsynced, slot files synced before every record commit) runs one
# `fwagent check --trace`, whose states carry timestamps. Measured:
#   install   first DOWNLOAD step to the REBOOT state: every chunk fetched (256 KiB ranges,
#             one keep-alive connection), hash-checked against its leaf, programmed into the
#             slot file, its progress committed; the whole image re-read and hashed (VERIFY);
#             the pending slot committed (INSTALL)
#   cycle     the whole `fwagent check`: also check-in and bundle verification, the boot
#             selection's hash of the trial image, health check, confirmation, event report
# against sha256sum of the image file (page cache warm; best of 3 runs each, a new device
# each). Each is measured twice: as shipped ("durable": every commit fsyncs the record file
# after fdatasync of the slot file: two syncs per progress commit, every FWC_AGENT_PROGRESS_BYTES
# of verified image, 4 MiB by default, and at the end), and with --no-sync
# (the same code without the syncs: what a device whose flash writes are durable on return
# sees, and where the agent's own work shows).
#
# Usage: bench/agent_install.sh [BUILD_DIR]   (default build/release). SIZE_MB (default 16).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
source bench/agent_lib.sh
BIN=${1:-build/release}
SIZE_MB=${SIZE_MB:-16}
for b in "$BIN/fwchaind" "$BIN/fwchain" "$BIN/fwagent"; do
	[ -x "$b" ] || { echo "bench/agent_install.sh: SKIP: $b not built (cmake --preset release" \
		"&& cmake --build build/release)"; exit 0; }
done
bench_tmp
agent_setup
head -c $((SIZE_MB * 1048576)) /dev/urandom >"$T/img.bin"
agent_publish 1.0.0 1 "$T/img.bin"
bytes=$((SIZE_MB * 1048576))

best_sha=""
for _ in 1 2 3; do
	s=$(date +%s.%N)
	sha256sum "$T/img.bin" >/dev/null
	e=$(date +%s.%N)
	d=$(python3 -c "print($e - $s)")
	best_sha=$(python3 -c "print(min(x for x in [$d, ${best_sha:-1e9}]))")
done

# run MODE I [fwagent args]: provision device I, one measured check; sets INST and CYC (s)
run() {
	local i=$2 s e
	shift 2
	"$BIN/fwchain" device provision --product thermo --hwid rev-b --trust "$T/trust.txt" \
		--out "$T/dev$i" --key "$T/ops.key" --slot-size $((2 * SIZE_MB * 1048576)) \
		>/dev/null || bench_die "provision"
	# the slots are made (and synced) and the key read outside the measured cycle
	"$BIN/fwagent" status --config "$T/dev$i/fwagent.conf" >/dev/null 2>&1 || true
	s=$(date +%s.%N)
	"$BIN/fwagent" check --config "$T/dev$i/fwagent.conf" --trace "$@" >"$T/trace$i" 2>&1 ||
		{ cat "$T/trace$i" >&2; bench_die "fwagent check failed"; }
	e=$(date +%s.%N)
	grep -q "updated: counter 0 -> 1" "$T/trace$i" || { cat "$T/trace$i" >&2; bench_die "no update"; }
	cmp -n "$bytes" "$T/img.bin" "$T/dev$i/slots/slot-b" || bench_die "slot B is not the image"
	INST=$(python3 - "$T/trace$i" <<'PY'
import re, sys
t = [(m.group(1), float(m.group(2))) for m in
     re.finditer(r"-> (\w+).*\[([0-9.]+) ms\]", open(sys.argv[1]).read())]
# the step that returned DOWNLOAD is the check-in's decision; the download starts after it
start = next(ms for s, ms in t if s == "DOWNLOAD")
end = next(ms for s, ms in t if s == "REBOOT")
print((end - start) / 1000.0)
PY
)
	CYC=$(python3 -c "print($e - $s)")
	rm -rf "$T/dev$i"
}
best() { python3 -c "print(min($1, ${2:-1e9}))"; }
inst_d="" cyc_d="" inst_n="" cyc_n=""
for i in 1 2 3; do
	run durable "d$i"
	inst_d=$(best "$INST" "$inst_d")
	cyc_d=$(best "$CYC" "$cyc_d")
	run nosync "n$i" --no-sync
	inst_n=$(best "$INST" "$inst_n")
	cyc_n=$(best "$CYC" "$cyc_n")
done
python3 - "$bytes" "$best_sha" "$inst_d" "$cyc_d" "$inst_n" "$cyc_n" <<'PY'
import sys
n, sha, inst_d, cyc_d, inst_n, cyc_n = int(sys.argv[1]), *map(float, sys.argv[2:])
mb = n / 1e6
def line(what, t, target=""):
    print(f"{what:44s} {t*1000:8.1f} ms {mb/t:7.1f} MB/s  ratio {sha/t:.2f} x sha256sum{target}")
print(f"image: {n} bytes (UnixFS, {n // 262144} leaves of 256 KiB), one local node")
print(f"{'sha256sum':44s} {sha*1000:8.1f} ms {mb/sha:7.1f} MB/s")
line("agent download+verify+install (durable)", inst_d, " (target >= 0.70)")
line("agent download+verify+install (--no-sync)", inst_n, " (target >= 0.70)")
line("agent whole check cycle (durable)", cyc_d)
line("agent whole check cycle (--no-sync)", cyc_n)
PY
fwchaind_stop
