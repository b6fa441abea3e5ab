#!/usr/bin/env bash
# Bulk throughput and request round-trip latency over loopback for
#   direct   the client talks to the server itself
#   relay    through reel's relay    (reel redirect --to builtin -- CLIENT)
#   haproxy  through HAProxy, TCP mode, `server orig 0.0.0.0:0` (reel redirect --to HAPROXY -- CLIENT)
# interleaved (direct relay haproxy, direct relay haproxy, ...), then a table of medians and the
# ratios relay/haproxy and relay/direct. --fixed compares bench_relay_fixed with an HAProxy whose
# backend is the server itself: no reel, no root. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/relay.sh [--fixed] [--rounds N] [--seconds S] [--streams K] [--count N] [--size B]
                      [--client pingpong|iperf3] [--haproxy-splice]
  --fixed           relay and HAProxy forward to a fixed server; no `reel redirect`, no root
  --rounds N        interleaved rounds, median reported (default 3, minimum 3)
  --seconds S       seconds per throughput run (default 5)
  --streams K       parallel bulk streams (default 1)
  --count N         round trips per latency run (default 20000)
  --size B          bytes per request and per response (default 64)
  --client C        bulk client: pingpong (default) or iperf3
  --haproxy-splice  add `option splice-auto` to HAProxy (stock HAProxy does not splice)
environment: REEL (default build/reel), PINGPONG (build/bench/bench_pingpong),
             RELAY_FIXED (build/bench/bench_relay_fixed), RESULTS (keep raw results there)
EOF
  exit 2
}

MODE=redirect ROUNDS=3 SECS=5 STREAMS=1 COUNT=20000 SIZE=64 CLIENT=pingpong HAPROXY_SPLICE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --fixed) MODE=fixed; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --client) CLIENT=$2; shift 2 ;;
    --haproxy-splice) HAPROXY_SPLICE=1; shift ;;
    *) usage ;;
  esac
done
[[ $ROUNDS -ge 3 ]] || { echo "relay.sh: --rounds must be at least 3" >&2; exit 2; }
[[ $CLIENT == pingpong || $CLIENT == iperf3 ]] || usage

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
PINGPONG=${PINGPONG:-$ROOT/build/bench/bench_pingpong}
RELAY_FIXED=${RELAY_FIXED:-$ROOT/build/bench/bench_relay_fixed}
need() { command -v "$1" >/dev/null || [[ -x $1 ]] || { echo "relay.sh: $1 not found ($2)" >&2; exit 1; }; }
need "$PINGPONG" "build it: ninja -C build bench_pingpong"
need haproxy "apt-get install haproxy"
need python3 "apt-get install python3"
[[ $CLIENT == iperf3 ]] && need iperf3 "apt-get install iperf3"
if [[ $MODE == redirect ]]; then
  need "$REEL" "build it, or set REEL"
  [[ $EUID -eq 0 ]] || { echo "relay.sh: reel redirect needs root (or use --fixed)" >&2; exit 1; }
else
  need "$RELAY_FIXED" "build it: ninja -C build bench_relay_fixed"
fi

WORK=$(mktemp -d /tmp/reel-bench.XXXXXX)
PIDS=()
# shellcheck disable=SC2317  # called through the trap
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts a tool that prints {"listening":"ADDR:PORT"} and polls (with a deadline, never a blind
# sleep) until it has; sets PORT.
start_tool() {
  local file=$WORK/$1.out
  shift
  "$@" >"$file" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1000); do
    PORT=$(sed -n 's/.*"listening":"[^"]*:\([0-9]*\)".*/\1/p' "$file" | head -1)
    [[ -n $PORT ]] && return
    kill -0 "$pid" 2>/dev/null || { echo "relay.sh: $* failed: $(head -c 500 "$file")" >&2; exit 1; }
    sleep 0.01
  done
  echo "relay.sh: $* printed no listening line" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

await_connect() {
  for _ in $(seq 1000); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.01
  done
  echo "relay.sh: nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

start_tool server "$PINGPONG" server --listen 127.0.0.1:0
SERVER=$PORT
BULK_SERVER=$SERVER
if [[ $CLIENT == iperf3 ]]; then
  BULK_SERVER=$(free_port)
  iperf3 -s -B 127.0.0.1 -p "$BULK_SERVER" >"$WORK/iperf3.out" 2>&1 &
  PIDS+=("$!")
  await_connect "$BULK_SERVER"
fi

# HAProxy: one frontend for the latency server and one for the bulk server (the same one unless
# iperf3 is used). In redirect mode both backends are `0.0.0.0:0`: connect where SO_ORIGINAL_DST
# says the client was going.
HA_LAT=$(free_port)
HA_BULK=$HA_LAT
[[ $BULK_SERVER != "$SERVER" ]] && HA_BULK=$(free_port)
haproxy_config() {
  local splice=""
  [[ $HAPROXY_SPLICE == 1 ]] && splice="  option splice-auto"
  printf 'global\n  maxconn 4000\ndefaults\n  mode tcp\n%s\n' "$splice"
  printf '  timeout connect 5s\n  timeout client 5m\n  timeout server 5m\n'
  local port target
  for pair in "$HA_LAT:$SERVER" "$HA_BULK:$BULK_SERVER"; do
    port=${pair%%:*} target=${pair#*:}
    [[ -e $WORK/fe.$port ]] && continue
    touch "$WORK/fe.$port"
    if [[ $MODE == redirect ]]; then target="0.0.0.0:0"; else target="127.0.0.1:$target"; fi
    printf 'listen l%s\n  bind 127.0.0.1:%s\n  server orig %s\n' "$port" "$port" "$target"
  done
}
haproxy_config >"$WORK/haproxy.cfg"
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 &
PIDS+=("$!")
await_connect "$HA_LAT"

if [[ $MODE == fixed ]]; then
  start_tool relay-lat "$RELAY_FIXED" --to "127.0.0.1:$SERVER"
  RELAY_LAT=$PORT RELAY_BULK=$PORT
  if [[ $BULK_SERVER != "$SERVER" ]]; then
    start_tool relay-bulk "$RELAY_FIXED" --to "127.0.0.1:$BULK_SERVER"
    RELAY_BULK=$PORT
  fi
fi

# Sets PREFIX (how to run the client) and LAT_PORT / BULK_PORT (where it connects) for a setup.
route() {
  PREFIX=() LAT_PORT=$SERVER BULK_PORT=$BULK_SERVER
  case $MODE:$1 in
    redirect:relay) PREFIX=("$REEL" redirect --to builtin --) ;;
    redirect:haproxy) PREFIX=("$REEL" redirect --to "127.0.0.1:$HA_LAT" --) ;;
    fixed:relay) LAT_PORT=$RELAY_LAT BULK_PORT=$RELAY_BULK ;;
    fixed:haproxy) LAT_PORT=$HA_LAT BULK_PORT=$HA_BULK ;;
  esac
}

# The clients' stderr, reel's summaries included; shown when a run fails.
LOG=$WORK/client.log
failed() {
  echo "relay.sh: $1 run through $2 failed; its stderr ends with:" >&2
  tail -n 20 "$LOG" >&2
  exit 1
}

# Last JSON object a command printed on stdout (reel may log around it).
json_of() { python3 "$WORK/json_of.py"; }
cat >"$WORK/json_of.py" <<'EOF'
import json, sys
text = sys.stdin.read()
for start in [i for i, c in enumerate(text) if c == "{" and (i == 0 or text[i - 1] == "\n")][::-1]:
    try:
        obj, _ = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        continue
    if "listening" not in obj:
        print(json.dumps(obj))
        break
else:
    sys.exit("relay.sh: the client printed no result:\n" + text[-2000:])
EOF

throughput() {
  if [[ $CLIENT == iperf3 ]]; then
    "${PREFIX[@]}" iperf3 -c 127.0.0.1 -p "$BULK_PORT" -t "$SECS" -P "$STREAMS" -J 2>>"$LOG" |
      json_of |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
  else
    "${PREFIX[@]}" "$PINGPONG" throughput --connect "127.0.0.1:$BULK_PORT" --seconds "$SECS" \
      --streams "$STREAMS" 2>>"$LOG" | json_of |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["gbit_per_s"])'
  fi
}

latency() {
  "${PREFIX[@]}" "$PINGPONG" latency --connect "127.0.0.1:$LAT_PORT" --count "$COUNT" \
    --size "$SIZE" 2>>"$LOG" | json_of |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["p50_us"], j["p90_us"], j["p99_us"], j["rtt_per_s"])'
}

read -r load _ </proc/loadavg
if awk -v l="$load" 'BEGIN { exit !(l > 1) }'; then
  echo "relay.sh: warning: load average is $load; other work on the machine makes loopback" \
    "numbers noisy" >&2
fi

RAW=${RESULTS:-$WORK/results.tsv}
: >"$RAW"
SETUPS=(direct relay haproxy)
echo "reel relay bench ($MODE): $ROUNDS rounds; bulk $SECS s x $STREAMS stream(s) with $CLIENT;" \
  "latency $COUNT round trips of $SIZE B" >&2
for round in $(seq "$ROUNDS"); do
  for setup in "${SETUPS[@]}"; do
    route "$setup"
    gbit=$(throughput) || failed bulk "$setup"
    printf '%s\t%s\tgbit\t%s\n' "$round" "$setup" "$gbit" >>"$RAW"
    echo "  round $round $setup: $gbit Gbit/s" >&2
  done
  for setup in "${SETUPS[@]}"; do
    route "$setup"
    read -r p50 p90 p99 rtt < <(latency) || true
    [[ -n ${rtt:-} ]] || failed latency "$setup"
    printf '%s\t%s\tp50\t%s\n%s\t%s\tp90\t%s\n%s\t%s\tp99\t%s\n%s\t%s\trtt\t%s\n' \
      "$round" "$setup" "$p50" "$round" "$setup" "$p90" "$round" "$setup" "$p99" \
      "$round" "$setup" "$rtt" >>"$RAW"
    echo "  round $round $setup: p50 $p50 us, p99 $p99 us, $rtt round trips/s" >&2
  done
done

python3 - "$RAW" <<'EOF'
import collections, statistics, sys
vals = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, setup, metric, value = line.split("\t")
    vals[setup, metric].append(float(value))
med = {k: statistics.median(v) for k, v in vals.items()}
metrics = [("gbit", "Gbit/s"), ("p50", "p50 us"), ("p90", "p90 us"), ("p99", "p99 us"),
           ("rtt", "round trips/s")]
print()
print(f"{'median of ' + str(len(vals['relay', 'gbit'])):14}" +
      "".join(f"{label:>15}" for _, label in metrics))
for setup in ("direct", "relay", "haproxy"):
    print(f"{setup:14}" + "".join(f"{med[setup, m]:15.2f}" for m, _ in metrics))
for other in ("haproxy", "direct"):
    print(f"{'relay/' + other:14}" +
          "".join(f"{med['relay', m] / med[other, m]:15.2f}" for m, _ in metrics))
print("(throughput and round trips/s: higher is better; latency: lower is better)")
EOF
[[ -n ${RESULTS:-} ]] && echo "raw results: $RAW" >&2
exit 0
