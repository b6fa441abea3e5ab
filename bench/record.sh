#!/usr/bin/env bash
# What `reel record` adds to each dependency call, and how fast `reel test` replays. One run:
#
# 1. Dependency calls. bench_depcall makes N sequential calls on one connection (Redis GET, and
#    PostgreSQL simple-query `SELECT 1`) against a real Redis and PostgreSQL, as
#      direct   bench_depcall itself
#      relay    reel redirect --to builtin -- bench_depcall    (the bare relay, nothing recorded)
#      record   reel record -p TMP --no-dns -- bench_depcall   (relay + recorder + mocks on disk)
#    interleaved per round; reports median p50/p90/p99 per call, the ratios record/direct and
#    record/relay with the added microseconds, and the mocks each record run wrote (checked
#    against the calls it made: a mismatch fails the run).
# 2. Replay. Records the shop example (examples/shop) under COUNT requests (bench/shop_load.py),
#    stops its dependencies, then per round, alternating:
#      live     app.py against fresh real dependencies, shop_load.py sends the same COUNT requests
#      replay   reel test -p REC --json -- app.py, every dependency answered from the mocks
#    and reports tests/s of the replay loop itself (from the time reel prints the first result to
#    the last), of the summed request times, and of the whole `reel test` command (app start-up
#    and shutdown included), next to the live requests/s and wall time, with ratios.
#
# Usage: sudo bench/record.sh [--rounds N] [--calls N] [--requests N]   (see bench/README.md)
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: bench/record.sh [--rounds N] [--calls N] [--requests N]
  --rounds N     interleaved rounds, medians reported (default 5, minimum 3)
  --calls N      measured calls per dependency-call run, after 100 warm-up calls (default 10000)
  --requests N   requests recorded from the shop and replayed (default 300)
environment: REEL (default build/reel), DEPCALL (build/bench/bench_depcall),
             RESULTS (keep the raw per-round numbers there)
EOF
  exit 2
}

ROUNDS=5 CALLS=10000 REQUESTS=300 WARMUP=100
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --calls) CALLS=$2; shift 2 ;;
    --requests) REQUESTS=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ $ROUNDS -ge 3 ]] || { echo "record.sh: --rounds must be at least 3" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
DEPCALL=${DEPCALL:-$ROOT/build/bench/bench_depcall}
SHOP=$ROOT/examples/shop
LOAD=$ROOT/bench/shop_load.py
PY=/usr/bin/python3  # Debian's: the shop needs its psycopg2 and redis modules
LOCK=/tmp/reel-bench.lock
need() { command -v "$1" >/dev/null || [[ -x $1 ]] || { echo "record.sh: $1 not found ($2)" >&2; exit 1; }; }
need "$REEL" "build it: ninja -C build reel"
need "$DEPCALL" "build it: ninja -C build bench_depcall"
need "$PY" "scripts/setup"
need flock "apt-get install util-linux"
[[ $EUID -eq 0 ]] || { echo "record.sh: reel record, redirect and test need root" >&2; exit 1; }

WORK=$(mktemp -d /tmp/reel-bench-record.XXXXXX)
chmod 755 "$WORK"  # PostgreSQL runs as the postgres user
# Private copies: a rebuild of build/ during the run must not swap binaries between rounds.
if ! cp "$REEL" "$WORK/reel" || ! cp "$DEPCALL" "$WORK/bench_depcall" ||
  ! "$WORK/reel" --help >/dev/null 2>&1; then
  echo "record.sh: cannot copy or run $REEL and $DEPCALL (being rebuilt?)" >&2
  rm -rf "$WORK"
  exit 1
fi
REEL=$WORK/reel DEPCALL=$WORK/bench_depcall
PIDS=()
DEPS_DIRS=()
# shellcheck disable=SC2317  # called through the trap
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for d in "${DEPS_DIRS[@]}"; do "$SHOP/deps.sh" stop "$d" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
  read -r l1 l5 l15 _ </proc/loadavg
  echo "load average at end: $l1 $l5 $l15" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r l1 l5 l15 _ </proc/loadavg
echo "load average at start: $l1 $l5 $l15" >&2
if awk -v l="$l1" 'BEGIN { exit !(l > 1) }'; then
  echo "record.sh: warning: load average is $l1; loopback numbers will be noisy" >&2
fi

# Everything from here on competes for the CPUs, set-up included (initdb, app start-up): hold the
# lock other reel benchmarks on this machine take, until the script exits.
exec 9>"$LOCK"
if ! flock -n 9; then
  echo "record.sh: waiting for $LOCK (another benchmark is running)" >&2
  flock 9
fi
read -r l1 l5 l15 _ </proc/loadavg
echo "lock taken; load average now: $l1 $l5 $l15" >&2

RAW=${RESULTS:-$WORK/results.tsv}
: >"$RAW"
LOG=$WORK/log
fail() {
  echo "record.sh: $1" >&2
  [[ -s $LOG ]] && { echo "--- last lines of its output:" >&2; tail -n 25 "$LOG" >&2; }
  exit 1
}

wait_port() {
  for _ in $(seq 500); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.02
  done
  fail "nothing listens on 127.0.0.1:$1"
}

# deps_start DIR: a fresh PostgreSQL, Redis and rates API (examples/shop/deps.sh); sources DIR/env
# and keeps a copy in DIR.env (deps.sh stop removes DIR/env).
deps_start() {
  DEPS_DIRS+=("$1")
  "$SHOP/deps.sh" start "$1" >"$LOG" 2>&1 9>&- || fail "deps.sh start $1"
  cp "$1/env" "$1.env"
  # shellcheck disable=SC1090
  source "$1.env"
}
deps_stop() { "$SHOP/deps.sh" stop "$1" >"$LOG" 2>&1 || fail "deps.sh stop $1"; }

# Last JSON line of a file.
json_line() { grep '^{' "$1" | tail -n 1; }
jget() { "$PY" -c 'import json,sys; j=json.loads(sys.argv[1]); print(*(j[k] for k in sys.argv[2:]))' "$@"; }

################################################################################################
# 1. Dependency calls: direct, bare relay, record.
deps_start "$WORK/deps"
REDIS_PORT=${REDIS_URL#redis://127.0.0.1:}
REDIS_PORT=${REDIS_PORT%%/*}
PG_PORT=${DATABASE_URL##*@127.0.0.1:}
PG_PORT=${PG_PORT%%/*}
declare -A TARGET=([redis]=$REDIS_PORT [postgres]=$PG_PORT)
# Mocks one record run must write: one per call, warm-up included, plus PostgreSQL's start-up
# exchange (the handshake, filed as its own mock).
declare -A SETUP_MOCKS=([redis]=0 [postgres]=1)

echo "== dependency calls: $CALLS sequential calls per run (+$WARMUP warm-up), $ROUNDS rounds," \
  "direct / relay / record interleaved" >&2
MISMATCH=0
for round in $(seq "$ROUNDS"); do
  for proto in redis postgres; do
    for setup in direct relay record; do
      # /usr/bin/time around reel: its CPU (threads and children) minus bench_depcall's own is
      # what reel spent.
      prefix=(/usr/bin/time -f '%U %S' -o "$WORK/time")
      rec=$WORK/rec-$round-$proto
      case $setup in
        direct) prefix=() ;;
        relay) prefix+=("$REEL" redirect --to builtin --) ;;
        record) prefix+=("$REEL" record -p "$rec" --no-dns --) ;;
      esac
      "${prefix[@]}" "$DEPCALL" "$proto" --connect "127.0.0.1:${TARGET[$proto]}" --count "$CALLS" \
        --warmup "$WARMUP" >"$LOG" 2>&1 || fail "$proto $setup run failed"
      j=$(json_line "$LOG")
      [[ -n $j ]] || fail "$proto $setup: bench_depcall printed no result"
      read -r p50 p90 p99 cps calls own_ms < <(jget "$j" p50_us p90_us p99_us calls_per_s calls cpu_ms)
      printf '%s\t%s\t%s\tp50\t%s\n%s\t%s\t%s\tp90\t%s\n%s\t%s\t%s\tp99\t%s\n%s\t%s\t%s\tcps\t%s\n' \
        "$round" "$proto" "$setup" "$p50" "$round" "$proto" "$setup" "$p90" \
        "$round" "$proto" "$setup" "$p99" "$round" "$proto" "$setup" "$cps" >>"$RAW"
      extra=""
      if [[ $setup != direct ]]; then
        read -r u s <"$WORK/time"
        cpu=$(echo "(($u + $s) * 1000 - $own_ms) * 1000 / $calls" | bc -l)
        printf '%s\t%s\t%s\tcpu\t%s\n' "$round" "$proto" "$setup" "$cpu" >>"$RAW"
        extra=$(printf ', reel CPU %.1f us/call' "$cpu")
      fi
      if [[ $setup == record ]]; then
        said=$(sed -n 's/^recorded .*: [0-9]* tests, \([0-9]*\) mocks.*/\1/p' "$LOG")
        on_disk=$(grep -c '^kind: ' "$rec/test-set-0/mocks.yaml" || true)
        want=$((calls + SETUP_MOCKS[$proto]))
        printf '%s\t%s\t%s\tmocks\t%s\n' "$round" "$proto" "$setup" "$on_disk" >>"$RAW"
        extra+=", mocks $on_disk in mocks.yaml (reel said ${said:-?}; want $calls calls + ${SETUP_MOCKS[$proto]} set-up = $want)"
        if [[ $on_disk != "$want" || $said != "$want" ]]; then
          extra+="  MISMATCH"
          MISMATCH=1
        fi
        rm -rf "$rec"
      fi
      echo "  round $round $proto $setup: p50 $p50 us, p99 $p99 us, $cps calls/s$extra" >&2
    done
  done
done

################################################################################################
# 2. Replay: record the shop, stop its dependencies, then live vs replay.
echo "== shop: recording $REQUESTS requests" >&2
REC=$WORK/shop
# shellcheck disable=SC2153  # SHOP_PORT comes from the deps env file
REC_ENV=$WORK/deps.env
"$REEL" record -p "$REC" --no-dns --app-port "$SHOP_PORT" -- "$SHOP/app.py" >"$WORK/rec.out" 2>"$WORK/rec.err" 9>&- &
RPID=$!
PIDS+=("$RPID")
wait_port "$SHOP_PORT"
"$LOAD" "http://127.0.0.1:$SHOP_PORT" "$REQUESTS" >"$LOG" 2>&1 || fail "shop_load.py under reel record"
REC_LOAD=$(json_line "$LOG")
# What reel wrote (write(2) bytes) once every test is on disk, against the size of the set.
deadline=$((SECONDS + 20))
until [[ $(find "$REC/test-set-0/tests" -name '*.yaml' | wc -l) -ge $REQUESTS ]]; do
  ((SECONDS < deadline)) || { cp "$WORK/rec.err" "$LOG"; fail "the recorded tests did not all reach the disk"; }
  sleep 0.05
done
WCHAR=$(awk '/^wchar/ {print $2}' "/proc/$RPID/io")
kill -INT "$RPID"
rc=0
wait "$RPID" || rc=$?
[[ $rc == 0 ]] || { cp "$WORK/rec.err" "$LOG"; fail "reel record exited $rc"; }
PIDS=()
REC_SUMMARY=$(grep '^recorded ' "$WORK/rec.err" || true)
grep -q "^recorded .*: $REQUESTS tests" "$WORK/rec.err" || { cp "$WORK/rec.err" "$LOG"; fail "expected $REQUESTS tests recorded"; }
SET_BYTES=$(du -sb "$REC/test-set-0" | cut -f1)
REC_STATUSES=$(jget "$REC_LOAD" statuses)
echo "  $REC_SUMMARY" >&2
echo "  shop_load.py under reel record: $(jget "$REC_LOAD" per_s) requests/s; statuses $REC_STATUSES" >&2
echo "  reel wrote $((WCHAR / 1024)) KiB while recording a test set of $((SET_BYTES / 1024)) KiB" >&2
deps_stop "$WORK/deps"

# Prints "first last count" (seconds since start) for the PASS/FAIL result lines reel test writes
# on stderr, one per test, as they arrive; the rest goes to the log.
cat >"$WORK/stamp.py" <<'EOF'
import sys, time
t0 = time.monotonic()
first = last = None
n = 0
with open(sys.argv[1], "w") as log:
    for line in sys.stdin:
        now = time.monotonic() - t0
        if line.startswith(("PASS ", "FAIL ")):
            n += 1
            first = now if first is None else first
            last = now
        if not line.startswith("shop:"):
            log.write(line)
print(first or 0, last or 0, n)
EOF

now() { date +%s.%N; }
echo "== replay: $ROUNDS rounds, live (real dependencies) and replay (reel test, mocks) alternating" >&2
for round in $(seq "$ROUNDS"); do
  # live: fresh dependencies (so every round sees the answers the recording saw), app start-up,
  # the same requests, shutdown. Starting and stopping the dependencies is not timed.
  deps_start "$WORK/live-$round"
  t0=$(now)
  "$SHOP/app.py" 2>"$WORK/app.err" 9>&- &
  APP=$!
  PIDS+=("$APP")
  wait_port "$SHOP_PORT"
  "$LOAD" "http://127.0.0.1:$SHOP_PORT" "$REQUESTS" >"$LOG" 2>&1 || fail "shop_load.py live"
  kill -TERM "$APP"
  wait "$APP" || true
  PIDS=()
  t1=$(now)
  live=$(json_line "$LOG")
  read -r live_rps < <(jget "$live" per_s)
  [[ $(jget "$live" statuses) == "$REC_STATUSES" ]] ||
    fail "live round $round: statuses $(jget "$live" statuses), recorded $REC_STATUSES"
  live_wall=$(echo "$t1 - $t0" | bc -l)
  deps_stop "$WORK/live-$round"
  printf '%s\tlive\trps\t%s\n%s\tlive\twall\t%s\n' "$round" "$live_rps" "$round" "$live_wall" >>"$RAW"

  # replay: the recording's environment (the app's port, the dependencies' addresses, none of
  # them running), the whole `reel test` timed.
  (
    # shellcheck disable=SC1090
    source "$REC_ENV"
    t0=$(now)
    set +e
    { "$REEL" test -p "$REC" --json -- "$SHOP/app.py" 2>&1 1>"$WORK/replay.json"; } |
      "$PY" "$WORK/stamp.py" "$WORK/replay.log" >"$WORK/replay.stamps"
    rc=${PIPESTATUS[0]}
    t1=$(now)
    echo "$rc $(echo "$t1 - $t0" | bc -l)" >"$WORK/replay.rc"
  )
  read -r rc wall <"$WORK/replay.rc"
  [[ $rc == 0 ]] || { cp "$WORK/replay.log" "$LOG"; fail "reel test exited $rc in round $round"; }
  read -r first last n <"$WORK/replay.stamps"
  [[ $n == "$REQUESTS" ]] || { cp "$WORK/replay.log" "$LOG"; fail "reel test printed $n results, want $REQUESTS"; }
  read -r passed set_ms exact unmatched req_ms < <("$PY" - "$WORK/replay.json" "$WORK/replay.log" <<'EOF'
import json, re, sys
j = json.load(open(sys.argv[1]))
s = j["test_sets"][0]
m = re.search(r"^test-set-0: .* in ([0-9.]+) ms", open(sys.argv[2]).read(), re.M)
print(j["passed"], m.group(1) if m else "nan", s["mocks"]["exact"] + s["mocks"]["structural"],
      s["mocks"]["unmatched"], sum(t["duration_ms"] for t in s["tests"]))
EOF
  )
  [[ $passed == "$REQUESTS" ]] || fail "replay round $round: $passed of $REQUESTS passed"
  # The loop: n results over (last - first) seconds are n - 1 intervals.
  loop_tps=$(echo "($n - 1) / ($last - $first)" | bc -l)
  req_tps=$(echo "$n / ($req_ms / 1000)" | bc -l)
  wall_tps=$(echo "$n / $wall" | bc -l)
  printf '%s\treplay\t%s\t%s\n' "$round" loop_tps "$loop_tps" "$round" req_tps "$req_tps" \
    "$round" wall_tps "$wall_tps" "$round" wall "$wall" "$round" set_s "$(echo "$set_ms / 1000" | bc -l)" >>"$RAW"
  printf '  round %s: live %.0f req/s (%.2f s with start-up); replay loop %.0f tests/s, requests alone %.0f tests/s, whole reel test %.2f s (%.0f tests/s); mocks matched %s, unmatched %s\n' \
    "$round" "$live_rps" "$live_wall" "$loop_tps" "$req_tps" "$wall" "$wall_tps" "$exact" "$unmatched" >&2
done
flock -u 9

################################################################################################
"$PY" - "$RAW" "$CALLS" "$REQUESTS" <<'EOF'
import collections, statistics, sys
calls, requests = sys.argv[2], sys.argv[3]
dep = collections.defaultdict(list)
rep = collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) == 5:
        dep[f[1], f[2], f[3]].append(float(f[4]))
    else:
        rep[f[1], f[2]].append(float(f[3]))
med = lambda v: statistics.median(v)
n = len(rep["live", "rps"])
print()
print(f"dependency calls: {calls} sequential calls per run, median of {n} interleaved rounds")
print(f"{'':10}{'':9}{'p50 us':>10}{'p90 us':>10}{'p99 us':>10}{'calls/s':>10}{'reel CPU':>10}{'mocks/run':>11}")
print(f"{'':10}{'':9}{'':>10}{'':>10}{'':>10}{'':>10}{'us/call':>10}")
for proto in ("redis", "postgres"):
    m = {(s, k): med(v) for (p, s, k), v in dep.items() if p == proto}
    for s in ("direct", "relay", "record"):
        mocks = f"{m[s, 'mocks']:11.0f}" if (s, "mocks") in m else f"{'-':>11}"
        cpu = f"{m[s, 'cpu']:10.2f}" if (s, "cpu") in m else f"{'-':>10}"
        print(f"{proto:10}{s:9}" + "".join(f"{m[s, k]:10.2f}" for k in ("p50", "p90", "p99"))
              + f"{m[s, 'cps']:10.0f}" + cpu + mocks)
    for other in ("direct", "relay"):
        print(f"{proto:10}{'rec/' + other[:3]:9}" + "".join(
            f"{m['record', k] / m[other, k]:9.2f}x" for k in ("p50", "p90", "p99"))
            + f"{m['record', 'cps'] / m[other, 'cps']:9.2f}x"
            + (f"{m['record', 'cpu'] / m[other, 'cpu']:9.2f}x" if other == "relay" else ""))
    for other in ("direct", "relay"):
        print(f"{proto:10}{'+us/' + other[:3]:9}" + "".join(
            f"{m['record', k] - m[other, k]:+10.2f}" for k in ("p50", "p90", "p99"))
            + f"   us added per call by reel record (vs {other})")
print()
r = {k: med(v) for k, v in rep.items()}
print(f"replay: {requests} shop tests, median of {n} rounds")
print(f"  live, real dependencies   {r['live', 'rps']:8.0f} requests/s   {r['live', 'wall']:6.2f} s incl. app start-up and shutdown")
print(f"  reel test, replay loop    {r['replay', 'loop_tps']:8.0f} tests/s      (first to last result line)")
print(f"  reel test, requests alone {r['replay', 'req_tps']:8.0f} tests/s      (sum of per-test duration_ms)")
print(f"  reel test, whole command  {r['replay', 'wall_tps']:8.0f} tests/s    {r['replay', 'wall']:6.2f} s incl. app start-up and shutdown"
      f" (set {r['replay', 'set_s']:.2f} s)")
print(f"  ratio replay loop / live requests   {r['replay', 'loop_tps'] / r['live', 'rps']:.2f}x")
print(f"  ratio whole reel test / live wall   {r['replay', 'wall'] / r['live', 'wall']:.2f}x (time; lower is faster)")
EOF
[[ -n ${RESULTS:-} ]] && echo "raw results: $RAW" >&2
[[ $MISMATCH == 0 ]] || fail "a record run wrote a different number of mocks than the calls it made"
exit 0
