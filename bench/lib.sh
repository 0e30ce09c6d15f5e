# Shared helpers of the shell benchmarks (sourced, not run): a temp dir removed on exit, free
# ports, fwchaind and nginx started in that temp dir and stopped by PID, wrk runs parsed into
# requests per second and p99 latency. Traffic goes to 127.0.0.1 only; every wait is bounded.
#
#   source "$(dirname "$0")/lib.sh"
#   bench_tmp                      -> $BENCH_TMP (removed, and started processes killed, on exit)
#   port=$(free_port)
#   fwchaind_start DATADIR [args]  -> $NODE_PID, $NODE_PORT   (fwchaind_stop)
#   nginx_start ROOTDIR PORT [cpu] -> $NGINX_PID               (nginx_stop)
#   wrk_run URL CONNS SECONDS [cpu] -> $WRK_RPS, $WRK_P99_MS, $WRK_P50_MS, $WRK_ERRORS
#   ratio A B                       -> A/B with 2 decimals
set -euo pipefail

BENCH_PIDS=()

bench_cleanup() {
	local p
	for p in "${BENCH_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${BENCH_PIDS[@]}"; do
		# Bounded: a process that ignores SIGTERM for 5 s gets SIGKILL.
		for _ in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

bench_tmp() {
	BENCH_TMP=$(mktemp -d /tmp/fwc-bench.XXXXXX)
	trap bench_cleanup EXIT
}

bench_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# A TCP port free on 127.0.0.1 right now (the kernel's choice).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait (at most 10 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# stop_pid PID: SIGTERM, wait at most 10 s, then SIGKILL.
stop_pid() {
	local p=$1
	kill "$p" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# fwchaind_start DATADIR [extra args...]: start the node (binary $FWCHAIND) on a port it picks,
# its log in DATADIR.log; CPU pinning with $NODE_CPU (taskset list, e.g. 0). Sets NODE_PID and
# NODE_PORT. The benchmarks' releases name content nobody uploaded (their cost is signatures
# and state, not storage), so the node runs with --no-content-check when it has that option.
fwchaind_start() {
	local dir=$1
	shift
	local pin=()
	if "$FWCHAIND" --help 2>/dev/null | grep -q -- --no-content-check; then
		set -- --no-content-check "$@"
	fi
	[ -n "${NODE_CPU:-}" ] && pin=(taskset -c "$NODE_CPU")
	: >"$dir.log" # exists before the node writes to it, so the polling below can read it
	"${pin[@]}" "$FWCHAIND" --dev --data "$dir" --port 0 "$@" 2>"$dir.log" &
	NODE_PID=$!
	BENCH_PIDS+=("$NODE_PID")
	NODE_PORT=""
	for _ in $(seq 1 200); do
		NODE_PORT=$(sed -n 's/.*serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' \
			"$dir.log" 2>/dev/null | tail -n 1 || true)
		[ -n "$NODE_PORT" ] && return 0
		kill -0 "$NODE_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$dir.log" >&2
	bench_die "fwchaind did not start"
}

fwchaind_stop() {
	stop_pid "$NODE_PID"
}

# nginx_start ROOTDIR PORT [CPU]: nginx serving ROOTDIR on 127.0.0.1:PORT with one worker, in
# the foreground (daemon off) with its prefix, config, logs and temp files in $BENCH_TMP/nginx.
# Sets NGINX_PID.
nginx_start() {
	local root=$1 port=$2 cpu=${3:-}
	local pfx=$BENCH_TMP/nginx pin=()
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || bench_die "nginx not installed"
	mkdir -p "$pfx/logs" "$pfx/tmp"
	cat >"$pfx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $pfx/nginx.pid;
error_log $pfx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $pfx/tmp/body;
    proxy_temp_path $pfx/tmp/proxy;
    fastcgi_temp_path $pfx/tmp/fastcgi;
    uwsgi_temp_path $pfx/tmp/uwsgi;
    scgi_temp_path $pfx/tmp/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 30s;
    default_type application/json;
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { }
    }
}
EOF
	[ -n "$cpu" ] && pin=(taskset -c "$cpu")
	"${pin[@]}" "$(command -v nginx || echo /usr/sbin/nginx)" -p "$pfx" -c "$pfx/nginx.conf" \
		2>>"$pfx/logs/stderr.log" &
	NGINX_PID=$!
	BENCH_PIDS+=("$NGINX_PID")
	wait_port "$port" || { cat "$pfx/logs/"* >&2; bench_die "nginx did not start"; }
}

nginx_stop() {
	stop_pid "$NGINX_PID"
}

# Convert a wrk latency ("1.23ms", "850.00us", "1.02s") to milliseconds.
wrk_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.3f", n }'
}

# wrk_run URL CONNS SECONDS [CPU]: one wrk run (2 threads, --latency, bounded by a timeout),
# its output in $BENCH_TMP/wrk.out. Sets WRK_RPS, WRK_P50_MS, WRK_P99_MS, WRK_ERRORS (non-2xx
# or 3xx answers plus socket errors).
wrk_run() {
	local url=$1 conns=$2 secs=$3 cpu=${4:-} pin=() out=$BENCH_TMP/wrk.out
	[ -n "$cpu" ] && pin=(taskset -c "$cpu")
	timeout $((secs + 20)) "${pin[@]}" wrk -t 2 -c "$conns" -d "${secs}s" --latency "$url" \
		>"$out" 2>&1 || { cat "$out" >&2; bench_die "wrk failed"; }
	WRK_RPS=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	WRK_P50_MS=$(wrk_ms "$(awk '$1 == "50%" {print $2}' "$out")")
	WRK_P99_MS=$(wrk_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	WRK_ERRORS=$(awk '/Non-2xx or 3xx responses:/ {n += $NF}
		/Socket errors:/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
	[ -n "$WRK_RPS" ] || { cat "$out" >&2; bench_die "cannot read wrk's output"; }
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# verdict RATIO TARGET: "met" or "NOT met".
verdict() {
	awk -v r="$1" -v t="$2" 'BEGIN { print ((r != "n/a" && r + 0 >= t + 0) ? "met" : "NOT met") }'
}
