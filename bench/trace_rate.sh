#!/usr/bin/env bash
# What `reel trace` adds to latency and to the machine's CPU when nginx is not saturated: an
# open-loop load at a fixed rate (half the maximum wrk measures), next to tcpdump's cost.
#
# nginx (1 worker) serves a small file on loopback. wrk measures the maximum req/s once; then
# bench_fixed_rate (bench/fixed_rate.cc) sends RATE req/s (default half of it) over CONNECTIONS
# keep-alive connections and takes latency from when each request was due. Each of ROUNDS rounds
# runs these kinds one after another (so slow drift hits them all alike):
#   without    nginx alone
#   tcpdump    `tcpdump -i lo -s0 -w /dev/null port P`
#   pretty     `reel trace --pid NGINX -o /dev/null` (the default output)
#   json       the same with `--format json`
# It reports per kind the medians of: achieved req/s, p50 and p99 latency and what they add to
# `without`'s, the whole machine's busy CPU during the load (nginx + client + tracer + kernel and
# BPF: /proc/stat user+nice+system+irq+softirq) as a share of all cores and in cores, and what
# it adds to `without`'s, the tracer's CPU (share of one core) and reel's CPU per request; the
# BPF time of reel's programs per request (run_time_ns with kernel.bpf_stats_enabled=1, switched
# on for the pretty and json rounds only; BPF_STATS=0 leaves it off); and per round the exchanges
# reel lost (requests completed minus exchanges reel saw, plus the kernel's dropped events).
# RATE overrides the rate, REEL_TRACE_ARGS adds arguments to reel. Runs under
# `flock /tmp/reel-bench.lock`, as the other trace benchmarks do.
# Usage: [RATE=N] bench/trace_rate.sh [ROUNDS=3] [SECONDS=8] [CONNECTIONS=32]
set -euo pipefail
ROUNDS=${1:-3} SECS=${2:-8} CONNS=${3:-32}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for tool in wrk tcpdump bpftool; do
  command -v $tool >/dev/null || { echo "$tool is not installed (scripts/setup)"; exit 1; }
done
[[ $EUID == 0 ]] || { echo "needs root (reel trace, bpftool)"; exit 1; }
WORK=$(mktemp -d /tmp/reel-bench-trace-rate.XXXXXX)
chmod 755 "$WORK"
pids=() TRACER=
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
trap 'kill "${pids[@]}" $TRACER 2>/dev/null || true; wait 2>/dev/null || true
  sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"; rm -rf "$WORK"' EXIT

# Copies, so that a rebuild of build/ during the run cannot change what is measured.
cp "${REEL:-$ROOT/build/reel}" "$WORK/reel"
cp "${LOAD:-$ROOT/build/bench/bench_fixed_rate}" "$WORK/load"
REEL=$WORK/reel

source "$ROOT/bench/lib.sh"  # start_nginx, run_wrk, tracer, cpu_ticks, machine_ticks, median

# Other engineers benchmark on this machine too: measure alone, holding their lock to the end.
exec 9> /tmp/reel-bench.lock
flock -n 9 || { echo "waiting for /tmp/reel-bench.lock (another benchmark is running)" >&2; flock 9; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/www"
head -c 512 /dev/urandom | base64 > "$WORK/www/index.html"
start_nginx "$PORT" "  server { listen 127.0.0.1:$PORT; root $WORK/www; }"
URL=http://127.0.0.1:$PORT/index.html

read -r _ MAX < <(run_wrk "$URL")
MAX=$(printf '%.0f' "$MAX") CHOSEN="half of wrk's max $MAX"
[[ -z ${RATE:-} ]] || CHOSEN="RATE; wrk's max $MAX"
RATE=${RATE:-$((MAX / 2))}
echo "max $MAX req/s (wrk -t1 -c$CONNS, ${SECS}s); fixed rate $RATE req/s" >&2

bpf_snap() { bpftool prog show -j > "$WORK/bpf.$1.json"; }  # the BPF programs loaded now
# Run time between snapshots 0 and 1 of the programs in both that were not loaded before the
# tracer started: reel's, unless something else loads programs meanwhile.
bpf_ns() {
  python3 - "$WORK"/bpf.{before,0,1}.json <<'PY'
import json, sys
before, s0, s1 = ({p["id"]: p.get("run_time_ns", 0) for p in json.load(open(f))}
                  for f in sys.argv[1:])
print(sum(s1[i] - s0[i] for i in s0.keys() & s1.keys() - before.keys()))
PY
}
# shellcheck disable=SC2086  # m "LIST": the median of a space-separated list
m() { median $1; }

kinds=(without tcpdump pretty json)
declare -A ACH P50 P99 SHARE CORES TCPU US BPF LOST  # per kind: values, one per round
HZ=$(getconf CLK_TCK) NCPU=$(nproc)

for r in $(seq "$ROUNDS"); do
  line="round $r:"
  for k in "${kinds[@]}"; do
    stats=0
    [[ ${BPF_STATS:-1} == 1 && ($k == pretty || $k == json) ]] && stats=1
    sysctl -qw kernel.bpf_stats_enabled=$((stats ? 1 : STATS_WAS))
    ((stats)) && bpf_snap before
    tracer "$k"
    t0=0
    [[ -z $TRACER ]] || t0=$(cpu_ticks "$TRACER")
    ((stats)) && bpf_snap 0
    read -r busy0 all0 < <(machine_ticks)
    s0=$(date +%s.%N)
    "$WORK/load" --url "$URL" --rate "$RATE" --connections "$CONNS" --seconds "$SECS" \
      > "$WORK/load.json"
    s1=$(date +%s.%N)
    read -r busy1 all1 < <(machine_ticks)
    ((stats)) && bpf_snap 1
    read -r completed ach p50 p99 delay < <(python3 -c 'import json, sys; d = json.load(sys.stdin)
print(d["completed"], d["achieved_rate"], d["p50_us"], d["p99_us"], d["send_delay_p50_us"])' \
      < "$WORK/load.json")
    cpu=0
    [[ -z $TRACER ]] || cpu=$(echo "($(cpu_ticks "$TRACER") - $t0) / $HZ" | bc -l)
    share=$(echo "($busy1 - $busy0) / ($all1 - $all0) * 100" | bc -l)
    ACH[$k]+="$ach " P50[$k]+="$p50 " P99[$k]+="$p99 " SHARE[$k]+="$share "
    CORES[$k]+="$(echo "$share * $NCPU / 100" | bc -l) "
    TCPU[$k]+="$(echo "$cpu / ($s1 - $s0) * 100" | bc -l) "
    ((stats)) && BPF[$k]+="$(echo "$(bpf_ns) / $completed" | bc -l) "
    line+=" $k $ach/s p50 ${p50}µs (sent ${delay}µs late) p99 ${p99}µs CPU $(printf '%.1f' "$share")%;"
    if [[ -n $TRACER ]]; then
      sleep 0.5
      kill -INT "$TRACER"
      wait "$TRACER" || true
      TRACER=
    fi
    case $k in pretty | json)
      seen=$(sed -n 's/^capture: \([0-9]*\) exchanges.*/\1/p' "$WORK/$k.log")
      dropped=$(sed -n 's/.*lost: \([0-9]*\) events.*/\1/p' "$WORK/$k.log")
      seen=${seen:-0} dropped=${dropped:-?}
      LOST[$k]+="$((completed > seen ? completed - seen : 0))+$dropped "
      US[$k]+="$(echo "$cpu * 1000000 / $completed" | bc -l) " ;;
    esac
  done
  echo "$line" >&2
done
sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"

w_p50=$(m "${P50[without]}") w_p99=$(m "${P99[without]}") w_cores=$(m "${CORES[without]}")
echo
echo "nginx at $RATE req/s ($CHOSEN), $CONNS connections, ${SECS}s x $ROUNDS rounds" \
  "of each kind; $NCPU cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %8s %8s %7s %8s %7s %7s %6s %7s %8s %7s %8s  %s\n' kind "req/s" "p50 µs" "+p50" \
  "p99 µs" "+p99" "CPU" cores "+CPU" "tracer" "µs/req" "BPF ns" "lost (completed-reel+kernel drops)"
for k in "${kinds[@]}"; do
  p50=$(m "${P50[$k]}") p99=$(m "${P99[$k]}") cores=$(m "${CORES[$k]}")
  tcpu=- us=- bpf=- lost=-
  [[ $k == without ]] || tcpu=$(printf '%.1f%%' "$(m "${TCPU[$k]}")")
  [[ -z ${US[$k]:-} ]] || us=$(printf '%.2f' "$(m "${US[$k]}")")
  [[ -z ${BPF[$k]:-} ]] || bpf=$(printf '%.0f' "$(m "${BPF[$k]}")")
  [[ -z ${LOST[$k]:-} ]] || lost=${LOST[$k]}
  printf '%-8s %8.0f %8.1f %7.1f %8.1f %7.1f %6.1f%% %6.2f %6.1f%% %8s %7s %8s  %s\n' "$k" \
    "$(m "${ACH[$k]}")" "$p50" "$(echo "$p50 - $w_p50" | bc -l)" "$p99" \
    "$(echo "$p99 - $w_p99" | bc -l)" "$(m "${SHARE[$k]}")" "$cores" \
    "$(echo "($cores - $w_cores) / $w_cores * 100" | bc -l)" "$tcpu" "$us" "$bpf" "$lost"
done
