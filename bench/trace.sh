#!/usr/bin/env bash
# Cost of `reel trace` on a real HTTP server at its maximum rate.
#
# nginx (1 worker) serves a small file on loopback; wrk drives it flat out. Rounds alternate
# without reel (A) and with `reel trace --pid NGINX -o /dev/null` (B, the issue's command; set
# REEL_TRACE_FORMAT=json for JSON lines with bodies, the costliest output), in one run,
# and the script reports the throughput ratio B/A, reel's CPU (share of one core) and peak RSS,
# and exchanges lost: requests wrk completed minus exchanges reel saw, plus the kernel's count of
# dropped events. A third kind of round (C) attaches `reel trace` to an idle process instead: the
# programs and syscall tracepoints are on, every nginx/wrk event is rejected at the scope check.
# C/A is the floor no consumer work can beat on this kernel. The share of idle CPU during A and B
# shows how much of the loss is nginx and wrk waiting while reel runs. With FALLBACKS=1, a fourth
# kind of round (D) runs B's trace with every BPF fallback forced (REEL_BPF_FALLBACKS=all: what
# a 5.10 kernel runs, bpf/features.h), so their cost is measured in the same run.
# Usage: bench/trace.sh [ROUNDS=3] [SECONDS=8] [CONNECTIONS=32]
set -euo pipefail
ROUNDS=${1:-3} SECS=${2:-8} CONNS=${3:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup)"; exit 1; }
WORK=$(mktemp -d /tmp/reel-bench-trace.XXXXXX)
chmod 755 "$WORK"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

source "$ROOT/bench/lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/www"
head -c 512 /dev/urandom | base64 > "$WORK/www/index.html"
start_nginx "$PORT" "  server { listen 127.0.0.1:$PORT; root $WORK/www; }"
URL=http://127.0.0.1:$PORT/index.html
idle_ticks() { awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
idle_share() {  # BEFORE AFTER ("idle total" pairs) -> percent idle
  echo "$1 $2" | awk '{printf "%.1f", ($3 - $1) * 100 / ($4 - $2)}'
}
sleep 1000000 &
IDLE=$!
pids+=($IDLE)

declare -a A B C D CPU CPUD RSS LOST IA IB
for r in $(seq "$ROUNDS"); do
  i0=$(idle_ticks)
  read -r _ rps < <(run_wrk "$URL"); A+=("$rps")
  IA+=("$(idle_share "$i0" "$(idle_ticks)")")

  "$REEL" trace --pid "$IDLE" -o /dev/null 2> "$WORK/floor.log" &
  FLOOR_PID=$!
  for _ in $(seq 200); do grep -q "tracing pid" "$WORK/floor.log" && break; sleep 0.05; done
  read -r _ rps < <(run_wrk "$URL"); C+=("$rps")
  kill -INT "$FLOOR_PID"; wait "$FLOOR_PID" || true

  "$REEL" trace --pid "$NGINX" --format "${REEL_TRACE_FORMAT:-pretty}" -o /dev/null ${REEL_TRACE_ARGS:-} \
    2> "$WORK/reel.log" &
  REEL_PID=$!
  for _ in $(seq 200); do grep -q "tracing pid" "$WORK/reel.log" && break; sleep 0.05; done
  t0=$(cpu_ticks "$REEL_PID"); s0=$(date +%s.%N); i0=$(idle_ticks)
  read -r reqs rps < <(run_wrk "$URL"); B+=("$rps")
  t1=$(cpu_ticks "$REEL_PID"); s1=$(date +%s.%N)
  IB+=("$(idle_share "$i0" "$(idle_ticks)")")
  RSS+=("$(awk '/VmHWM/ {print $2}' "/proc/$REEL_PID/status")")
  sleep 0.5
  kill -INT "$REEL_PID"; wait "$REEL_PID" || true
  hz=$(getconf CLK_TCK)
  CPU+=("$(echo "($t1 - $t0) / $hz / ($s1 - $s0) * 100" | bc -l)")
  seen=$(sed -n 's/^capture: \([0-9]*\) exchanges.*/\1/p' "$WORK/reel.log")
  dropped=$(sed -n 's/.*lost: \([0-9]*\) events.*/\1/p' "$WORK/reel.log")
  # wrk counts completed requests; connections it cut at the deadline may add a few seen by reel.
  LOST+=("$(( reqs > seen ? reqs - seen : 0 )) (kernel dropped $dropped events; wrk $reqs, reel $seen)")
  echo "round $r: without ${A[-1]} req/s, floor ${C[-1]} req/s, with ${B[-1]} req/s, reel cpu $(printf %.1f "${CPU[-1]}")%, rss ${RSS[-1]} KiB, lost ${LOST[-1]}" >&2

  if [[ ${FALLBACKS:-0} == 1 ]]; then
    REEL_BPF_FALLBACKS=all "$REEL" trace --pid "$NGINX" --format "${REEL_TRACE_FORMAT:-pretty}" -o /dev/null \
      ${REEL_TRACE_ARGS:-} 2> "$WORK/fallback.log" &
    REEL_PID=$!
    for _ in $(seq 200); do grep -q "tracing pid" "$WORK/fallback.log" && break; sleep 0.05; done
    t0=$(cpu_ticks "$REEL_PID"); s0=$(date +%s.%N)
    read -r reqs rps < <(run_wrk "$URL"); D+=("$rps")
    t1=$(cpu_ticks "$REEL_PID"); s1=$(date +%s.%N)
    sleep 0.5
    kill -INT "$REEL_PID"; wait "$REEL_PID" || true
    CPUD+=("$(echo "($t1 - $t0) / $(getconf CLK_TCK) / ($s1 - $s0) * 100" | bc -l)")
    seen=$(sed -n 's/^capture: \([0-9]*\) exchanges.*/\1/p' "$WORK/fallback.log")
    echo "round $r: with every fallback ${D[-1]} req/s, reel cpu $(printf %.1f "${CPUD[-1]}")%, wrk $reqs, reel $seen" >&2
  fi
done

ma=$(median "${A[@]}"); mb=$(median "${B[@]}")
echo
echo "nginx + wrk -t1 -c$CONNS, ${SECS}s x $ROUNDS rounds each, alternating; format ${REEL_TRACE_FORMAT:-pretty}; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %12s\n' "without reel (req/s, median)" "$ma"
printf '%-34s %12s\n' "with reel trace (req/s, median)" "$mb"
mc=$(median "${C[@]}")
printf '%-34s %12s\n' "reel on an idle process (floor)" "$mc"
printf '%-34s %12.3f\n' "ratio with/without" "$(echo "$mb / $ma" | bc -l)"
printf '%-34s %12.3f\n' "ratio floor/without" "$(echo "$mc / $ma" | bc -l)"
printf '%-34s %6s%% / %s%%\n' "idle CPU without / with (median)" "$(median "${IA[@]}")" "$(median "${IB[@]}")"
printf '%-34s %11.1f%%\n' "reel CPU (of one core, median)" "$(median "${CPU[@]}")"
printf '%-34s %9s KiB\n' "reel peak RSS (max)" "$(printf '%s\n' "${RSS[@]}" | sort -n | tail -1)"
for l in "${LOST[@]}"; do echo "exchanges lost: $l"; done
if ((${#D[@]})); then
  md=$(median "${D[@]}")
  printf '%-34s %12s\n' "with every fallback (req/s)" "$md"
  printf '%-34s %12.3f\n' "ratio fallbacks/without" "$(echo "$md / $ma" | bc -l)"
  printf '%-34s %11.1f%%\n' "reel CPU with fallbacks (median)" "$(median "${CPUD[@]}")"
fi
