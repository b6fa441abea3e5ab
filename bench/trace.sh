#!/usr/bin/env bash
# Cost of `reel trace` on a real HTTP server at its maximum rate, next to tcpdump's.
#
# nginx (1 worker) serves a small file on loopback; wrk drives it flat out. Each of ROUNDS
# rounds runs these kinds of round one after another (so slow drift hits them all alike):
#   without    nginx alone
#   floor      `reel trace --pid IDLE`: programs and syscall tracepoints on, every nginx/wrk event
#              rejected at the scope check: the cost no consumer work can beat on this kernel
#   tcpdump    `tcpdump -i lo -s0 -w /dev/null port P`: a packet capture copying every byte
#   pretty     `reel trace --pid NGINX -o /dev/null` (the default output)
#   json       the same with `--format json` (JSON lines with bodies, the costliest output)
#   fallbacks  pretty with every BPF fallback forced (REEL_BPF_FALLBACKS=all: what a 5.10
#              kernel runs, bpf/features.h); only with FALLBACKS=1
# It reports per kind the median req/s and its ratio to `without`, the tracer's CPU (share of
# one core), reel's CPU per exchange, and exchanges lost (requests wrk completed minus exchanges
# reel saw, plus the kernel's count of dropped events). REEL_TRACE_ARGS adds arguments to reel.
# Usage: [FALLBACKS=1] bench/trace.sh [ROUNDS=3] [SECONDS=8] [CONNECTIONS=32]
set -euo pipefail
ROUNDS=${1:-3} SECS=${2:-8} CONNS=${3:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup)"; exit 1; }
command -v tcpdump >/dev/null || { echo "tcpdump is not installed (scripts/setup)"; exit 1; }
WORK=$(mktemp -d /tmp/reel-bench-trace.XXXXXX)
chmod 755 "$WORK"
pids=()
trap 'kill ${TRACER:-} "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

source "$ROOT/bench/lib.sh"  # start_nginx, run_wrk, tracer, cpu_ticks, median

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/www"
head -c 512 /dev/urandom | base64 > "$WORK/www/index.html"
start_nginx "$PORT" "  server { listen 127.0.0.1:$PORT; root $WORK/www; }"
URL=http://127.0.0.1:$PORT/index.html
sleep 1000000 &
IDLE=$!
pids+=($IDLE)

kinds=(without floor tcpdump pretty json)
[[ ${FALLBACKS:-0} == 1 ]] && kinds+=(fallbacks)
declare -A RPS CPU US LOST  # per kind: space-separated values, one per round

for r in $(seq "$ROUNDS"); do
  line="round $r:"
  for k in "${kinds[@]}"; do
    tracer "$k"
    t0=0 s0=$(date +%s.%N)
    [[ -z $TRACER ]] || t0=$(cpu_ticks "$TRACER")
    read -r reqs rps < <(run_wrk "$URL")
    s1=$(date +%s.%N) cpu=0
    [[ -z $TRACER ]] || cpu=$(echo "($(cpu_ticks "$TRACER") - $t0) / $(getconf CLK_TCK)" | bc -l)
    RPS[$k]+="$rps " CPU[$k]+="$(echo "$cpu / ($s1 - $s0) * 100" | bc -l) "
    line+=" $k $rps"
    if [[ -n $TRACER ]]; then
      sleep 0.5
      kill -INT "$TRACER"
      wait "$TRACER" || true
    fi
    case $k in pretty | json | fallbacks)
      seen=$(sed -n 's/^capture: \([0-9]*\) exchanges.*/\1/p' "$WORK/$k.log")
      dropped=$(sed -n 's/.*lost: \([0-9]*\) events.*/\1/p' "$WORK/$k.log")
      seen=${seen:-0} dropped=${dropped:-?}
      # wrk counts completed requests; connections it cut at the deadline may add a few seen by reel.
      LOST[$k]+="$((reqs > seen ? reqs - seen : 0))+$dropped "
      US[$k]+="$(echo "$cpu * 1000000 / $((seen > 0 ? seen : 1))" | bc -l) " ;;
    esac
  done
  echo "$line" >&2
done

# shellcheck disable=SC2086  # the lists are meant to split
without=$(median ${RPS[without]})
echo
echo "nginx + wrk -t1 -c$CONNS, ${SECS}s x $ROUNDS rounds of each kind; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %12s %7s %13s %15s  %s\n' kind "req/s" ratio "tracer CPU" "µs/exchange" "lost (wrk-reel+kernel drops, per round)"
for k in "${kinds[@]}"; do
  # shellcheck disable=SC2086
  m=$(median ${RPS[$k]})
  cpu=- us=- lost=-
  [[ $k == without ]] || cpu=$(printf '%.1f%%' "$(median ${CPU[$k]})")
  [[ -z ${US[$k]:-} ]] || us=$(printf '%.2f' "$(median ${US[$k]})")
  [[ -z ${LOST[$k]:-} ]] || lost=${LOST[$k]}
  printf '%-10s %12.0f %7.3f %13s %15s  %s\n' "$k" "$m" "$(echo "$m / $without" | bc -l)" "$cpu" "$us" "$lost"
done
