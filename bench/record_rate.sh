#!/usr/bin/env bash
# What recording costs a running service, passive against active, at a fixed rate.
#
# The shop (examples/shop: Python, PostgreSQL, Redis, the rates API) serves
# GET /products/2/price?currency=EUR, which calls all three dependencies. wrk measures the
# shop's maximum once; bench_fixed_rate (bench/fixed_rate.cc) then sends RATE req/s (default half
# of it) over CONNECTIONS keep-alive connections, latency taken from when each request was due.
# Each of ROUNDS rounds runs, one after another:
#   without   the shop alone (started outside reel)
#   trace     `reel trace --pid SHOP -o /dev/null`: the capture alone, nothing written
#   passive   `reel record --pid SHOP` attached to that same running shop
#   active    the shop started by `reel record -- app.py` (its calls through reel's relay)
# and reports per kind the medians of: achieved req/s, p50 and p99 and what they add to
# `without`'s, the machine's busy CPU (/proc/stat) and what it adds, reel's CPU per request, and
# tests written against requests completed.
# Usage: sudo [RATE=N] bench/record_rate.sh [ROUNDS=3] [SECONDS=8] [CONNECTIONS=8]
set -euo pipefail
ROUNDS=${1:-3} SECS=${2:-8} CONNS=${3:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHOP=$ROOT/examples/shop
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/setup)"; exit 1; }
[[ $EUID == 0 ]] || { echo "needs root (reel record)"; exit 1; }
WORK=$(mktemp -d /tmp/reel-bench-record-rate.XXXXXX)
chmod 755 "$WORK"
pids=() REC=
trap 'kill "${pids[@]}" $REC 2>/dev/null || true; wait 2>/dev/null || true
  "$SHOP/deps.sh" stop "$WORK/deps" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

cp "${REEL:-$ROOT/build/reel}" "$WORK/reel"
cp "${LOAD:-$ROOT/build/bench/bench_fixed_rate}" "$WORK/load"
REEL=$WORK/reel
source "$ROOT/bench/lib.sh"  # cpu_ticks, machine_ticks, median

exec 9> /tmp/reel-bench.lock
flock -n 9 || { echo "waiting for /tmp/reel-bench.lock (another benchmark is running)" >&2; flock 9; }

"$SHOP/deps.sh" start "$WORK/deps" > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; exit 1; }
source "$WORK/deps/env"
URL=http://127.0.0.1:$SHOP_PORT/products/2/price?currency=EUR
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$SHOP_PORT") 2>/dev/null && return; sleep 0.05; done; exit 1; }
"$SHOP/app.py" 2> /dev/null &
APP=$!
pids+=("$APP")
wait_port
wrk -t1 -c"$CONNS" -d"${SECS}s" "$URL" > "$WORK/wrk.out"
MAX=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$WORK/wrk.out")
RATE=${RATE:-$((MAX / 2))}
echo "shop max $MAX req/s (wrk -t1 -c$CONNS, ${SECS}s); fixed rate $RATE req/s" >&2

m() { median $1; }  # shellcheck disable=SC2086
kinds=(without trace passive active)
declare -A ACH P50 P99 SHARE CORES US TESTS
HZ=$(getconf CLK_TCK) NCPU=$(nproc)

for r in $(seq "$ROUNDS"); do
  line="round $r:"
  for k in "${kinds[@]}"; do
    log=$WORK/$k.$r.log
    case $k in
      without) REC= ;;
      trace)
        "$REEL" trace --pid "$APP" -o /dev/null 2> "$log" &
        REC=$!
        for _ in $(seq 200); do grep -qs "tracing pid" "$log" && break; sleep 0.05; done ;;
      passive)
        "$REEL" record -p "$WORK/rec" --app-port "$SHOP_PORT" --pid "$APP" 2> "$log" &
        REC=$!
        for _ in $(seq 200); do grep -qs "recording pid" "$log" && break; sleep 0.05; done ;;
      active)
        kill "$APP"; wait "$APP" 2>/dev/null || true
        "$REEL" record -p "$WORK/rec" --app-port "$SHOP_PORT" -- "$SHOP/app.py" 2> "$log" &
        REC=$!
        wait_port
        curl -sf -o /dev/null "$URL" ;;  # the pools connect before the clock starts, as above
    esac
    t0=0
    [[ -z $REC ]] || t0=$(cpu_ticks "$REC")
    read -r busy0 all0 < <(machine_ticks)
    "$WORK/load" --url "$URL" --rate "$RATE" --connections "$CONNS" --seconds "$SECS" > "$WORK/load.json"
    read -r busy1 all1 < <(machine_ticks)
    read -r completed ach p50 p99 < <(python3 -c 'import json, sys; d = json.load(sys.stdin)
print(d["completed"], d["achieved_rate"], d["p50_us"], d["p99_us"])' < "$WORK/load.json")
    share=$(echo "($busy1 - $busy0) / ($all1 - $all0) * 100" | bc -l)
    ACH[$k]+="$ach " P50[$k]+="$p50 " P99[$k]+="$p99 " SHARE[$k]+="$share "
    CORES[$k]+="$(echo "$share * $NCPU / 100" | bc -l) "
    line+=" $k $ach/s p50 ${p50}µs p99 ${p99}µs CPU $(printf '%.1f' "$share")%;"
    if [[ -n $REC ]]; then
      cpu=$(echo "($(cpu_ticks "$REC") - $t0) / $HZ" | bc -l)
      sleep 0.5
      kill -INT "$REC"
      wait "$REC" || true
      REC=
      US[$k]+="$(echo "$cpu * 1000000 / $completed" | bc -l) "
      if [[ $k != trace ]]; then
        tests=$(sed -n 's/^recorded .*: \([0-9]*\) tests.*/\1/p' "$log")
        # the active round's shop also answered the one warm-up request
        TESTS[$k]+="${tests:-0}/$completed "
      fi
    fi
    if [[ $k == active ]]; then  # the shop outside reel again, for the next round
      "$SHOP/app.py" 2> /dev/null &
      APP=$!
      pids+=("$APP")
      wait_port
      curl -sf -o /dev/null "$URL"
    fi
  done
  echo "$line" >&2
done

w_p50=$(m "${P50[without]}") w_p99=$(m "${P99[without]}") w_cores=$(m "${CORES[without]}")
echo
echo "shop GET /products/2/price at $RATE req/s (half of wrk's max $MAX), $CONNS connections," \
  "${SECS}s x $ROUNDS rounds of each kind; $NCPU cores"
printf '%-8s %8s %8s %7s %8s %7s %7s %6s %7s %8s  %s\n' kind "req/s" "p50 µs" "+p50" "p99 µs" \
  "+p99" "CPU" cores "+CPU" "µs/req" "tests/requests per round"
for k in "${kinds[@]}"; do
  p50=$(m "${P50[$k]}") p99=$(m "${P99[$k]}") cores=$(m "${CORES[$k]}") us=-
  [[ -z ${US[$k]:-} ]] || us=$(printf '%.1f' "$(m "${US[$k]}")")
  printf '%-8s %8.0f %8.1f %7.1f %8.1f %7.1f %6.1f%% %6.2f %6.1f%% %8s  %s\n' "$k" \
    "$(m "${ACH[$k]}")" "$p50" "$(echo "$p50 - $w_p50" | bc -l)" "$p99" \
    "$(echo "$p99 - $w_p99" | bc -l)" "$(m "${SHARE[$k]}")" "$cores" \
    "$(echo "($cores - $w_cores) / $w_cores * 100" | bc -l)" "$us" "${TESTS[$k]:--}"
done
