#!/usr/bin/env bash
# Cost of `reel trace` on an HTTPS server at its maximum rate (TLS plaintext from uprobes).
#
# nginx (1 worker, TLS with a self-signed certificate made here) serves a small file on loopback;
# wrk drives it over HTTPS with keep-alive. Rounds alternate without reel (A) and with
# `reel trace --pid NGINX -o /dev/null` (B), in one run, under `flock /tmp/reel-bench.lock` so
# other benchmarks on the machine do not overlap. Reports the throughput ratio B/A, reel's CPU
# (share of one core), exchanges lost (wrk's completed requests minus exchanges reel saw), the
# kernel's dropped events (capture and TLS), untied SSL calls, and the load average.
# SERVER=go measures a Go net/http server (crypto/tls inside the executable, built here from
# tests/e2e/fixtures/gotls/server.go) instead of nginx, wrk asking for /hello.
# Usage: [SERVER=nginx|go] bench/trace_tls.sh [ROUNDS=3] [SECONDS=8] [CONNECTIONS=32]
set -euo pipefail
ROUNDS=${1:-3} SECS=${2:-8} CONNS=${3:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup)"; exit 1; }
WORK=$(mktemp -d /tmp/reel-bench-tls.XXXXXX)
chmod 755 "$WORK"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
source "$ROOT/bench/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [[ ${SERVER:-nginx} == go ]]; then
  GOCACHE=${GOCACHE:-/tmp/reel-go-cache} GOFLAGS=-buildvcs=false \
    go build -o "$WORK/goserver" "$ROOT/tests/e2e/fixtures/gotls/server.go"
  "$WORK/goserver" "$WORK/cert.pem" "$WORK/key.pem" "$WORK/port" &
  NGINX=$!  # the traced server, whichever it is
  pids+=("$NGINX")
  for _ in $(seq 200); do [[ -s $WORK/port ]] && break; sleep 0.05; done
  URL=https://127.0.0.1:$(cat "$WORK/port")/hello
else
  mkdir -p "$WORK/www"
  head -c 512 /dev/urandom | base64 > "$WORK/www/index.html"
  start_nginx "$PORT" "  server {
    listen 127.0.0.1:$PORT ssl;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    root $WORK/www;
  }"
  URL=https://127.0.0.1:$PORT/index.html
fi

measure() {
  declare -a A B CPU LOST
  for r in $(seq "$ROUNDS"); do
    read -r _ rps < <(run_wrk "$URL"); A+=("$rps")

    "$REEL" trace --pid "$NGINX" --format "${REEL_TRACE_FORMAT:-pretty}" -o /dev/null 2> "$WORK/reel.log" &
    REEL_PID=$!
    pids+=($REEL_PID)
    for _ in $(seq 200); do grep -q "tracing pid" "$WORK/reel.log" && break; sleep 0.05; done
    t0=$(cpu_ticks "$REEL_PID"); s0=$(date +%s.%N)
    read -r reqs rps < <(run_wrk "$URL"); B+=("$rps")
    t1=$(cpu_ticks "$REEL_PID"); s1=$(date +%s.%N)
    sleep 0.5
    kill -INT "$REEL_PID"; wait "$REEL_PID" || true
    hz=$(getconf CLK_TCK)
    CPU+=("$(echo "($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc -l)")
    seen=$(sed -n 's/^capture: \([0-9]*\) exchanges.*/\1/p' "$WORK/reel.log")
    dropped=$(sed -n 's/^capture: .*lost: \([0-9]*\) events.*/\1/p' "$WORK/reel.log")
    tls_dropped=$(sed -n 's/^tls: .* \([0-9]*\) dropped (ring full).*/\1/p' "$WORK/reel.log")
    untied=$(sed -n 's/^tls: .*untied \([0-9]*\) .*/\1/p' "$WORK/reel.log")
    LOST+=("$(( reqs > seen ? reqs - seen : 0 )) (wrk $reqs, reel $seen; kernel dropped $dropped capture + ${tls_dropped:-?} TLS events; untied SSL calls ${untied:-?})")
    echo "round $r: without ${A[-1]} req/s, with ${B[-1]} req/s, reel cpu $(printf %.1f "${CPU[-1]}")%, lost ${LOST[-1]}" >&2
  done
  ma=$(median "${A[@]}"); mb=$(median "${B[@]}")
  echo
  echo "${SERVER:-nginx} TLS + wrk -t1 -c$CONNS https, ${SECS}s x $ROUNDS rounds each, alternating; format ${REEL_TRACE_FORMAT:-pretty}; load $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-34s %12s\n' "without reel (req/s, median)" "$ma"
  printf '%-34s %12s\n' "with reel trace (req/s, median)" "$mb"
  printf '%-34s %12.3f\n' "ratio with/without" "$(echo "$mb / $ma" | bc -l)"
  printf '%-34s %11.1f%%\n' "reel CPU (of one core, median)" "$(median "${CPU[@]}")"
  for l in "${LOST[@]}"; do echo "exchanges lost: $l"; done
  grep '^tls:' "$WORK/reel.log" || true
}

# Other engineers benchmark on this machine too: measure alone.
exec 9> /tmp/reel-bench.lock
flock 9
measure
