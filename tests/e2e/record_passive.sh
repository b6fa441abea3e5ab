#!/usr/bin/env bash
# `reel record --pid` on the shop as it runs: started outside reel, its PostgreSQL and Redis
# pools connected and traffic flowing. reel attaches for a bounded time under continuing traffic
# and detaches; the shop keeps its pid and every pooled connection (ss). With every dependency
# stopped, `reel test -- app.py` replays the passive recording green with 0 unmatched, and a
# changed build fails. The same fixed traffic recorded actively and passively gives test sets
# that both replay green (compared below). Also: redaction, --max-tests, the audit line in the
# system log, DNS mocks, --cgroup, --passive -- CMD, and clear errors for a bad target.
source "$(dirname "$0")/lib.sh"
SHOP=$E2E_DIR/../../examples/shop
DEPS=$WORK/deps
LOGSOCK=""
stop_all() {
  [[ -n $LOGSOCK ]] && rm -f /dev/log
  for d in "$DEPS" "$WORK/passive-fixed" "$WORK/active-fixed"; do
    [[ -d $d ]] && { "$SHOP/deps.sh" stop "$d" >/dev/null 2>&1 || true; }
  done
  cleanup
}
trap stop_all EXIT

"$SHOP/deps.sh" start "$DEPS" > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; fail "deps.sh start"; }
cp "$DEPS/env" "$WORK/deps.env"  # deps.sh stop removes DEPS; the replays need its environment
source "$WORK/deps.env"
BASE=http://127.0.0.1:$SHOP_PORT
REC=$WORK/rec

# The system log: when nothing listens on /dev/log (a container, CI), this test listens there
# itself for as long as it runs, to read the audit lines reel sends.
if [[ ! -e /dev/log ]]; then
  LOGSOCK=$WORK/syslog.txt
  /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")' "$LOGSOCK" &
  STARTED_PIDS+=($!)
  deadline=$((SECONDS + 10))
  until [[ -S /dev/log ]]; do ((SECONDS < deadline)) || fail "/dev/log listener"; sleep 0.05; done
fi

# --- 1. The shop, started outside reel; pools connected by a first round of traffic.
"$SHOP/app.py" > "$WORK/app.log" 2>&1 &
APP=$!
STARTED_PIDS+=($APP)
wait_port "$SHOP_PORT"
"$SHOP/traffic.sh" "$BASE" > /dev/null || fail "traffic before reel"
pg_port=${DATABASE_URL##*:}; pg_port=${pg_port%%/*}
redis_port=${REDIS_URL##*:}; redis_port=${redis_port%%/*}
# The shop's connections to PostgreSQL and Redis, by local port: the pools.
pooled() {
  ss -tnpH state established "( dport = :$pg_port or dport = :$redis_port )" \
    | grep "pid=$APP," | awk '{print $3}' | sort
}
before=$(pooled)
[[ $(wc -l <<< "$before") -ge 2 ]] || { echo "$before"; fail "the shop has no pooled connections"; }

# Traffic goes on throughout, from a loop the test owns, one request at a time (concurrent
# requests would make psycopg2's pool open and close connections of its own), some carrying
# secrets.
secret_request() {
  curl -sSf -o /dev/null -H "Authorization: Bearer s3cr3t-passive-XYZ" \
    -H "Cookie: session=cookie-passive-123" "$BASE/products/3"
}
( while true; do "$SHOP/traffic.sh" "$BASE" > /dev/null 2>&1 || true; secret_request || true; sleep 0.1; done ) &
LOOP=$!
STARTED_PIDS+=($LOOP)
sleep 0.5

# --- 2. Attach, record for 4 s under the traffic (requests carrying secrets among it), detach.
"$REEL" record -p "$REC" --app-port "$SHOP_PORT" --pid "$APP" --duration 4s \
  > "$WORK/rec.out" 2> "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "reel record --pid exited $?"; }
kill "$LOOP"; wait "$LOOP" 2>/dev/null || true
grep -q -- "--duration reached: detached" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "no detach line"; }
ntests=$(grep -Eo 'recorded .*test-set-0: [0-9]+ tests' "$WORK/rec.err" | grep -Eo '[0-9]+ tests' | cut -d' ' -f1)
[[ ${ntests:-0} -ge 20 ]] || { cat "$WORK/rec.err"; fail "only ${ntests:-0} tests in 4 s of traffic"; }
grep -q "0 events lost" "$WORK/rec.err" || { grep capture: "$WORK/rec.err"; fail "events lost"; }
grep -q " 0 problems" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "self-check found problems"; }
pass "record --pid: $ntests tests in 4 s under traffic, 0 events lost, self-check clean"
if grep -rq -e 's3cr3t-passive-XYZ' -e 'cookie-passive-123' "$REC"; then
  grep -rn -e 's3cr3t-passive-XYZ' -e 'cookie-passive-123' "$REC" | head -3; fail "a secret reached disk"
fi
grep -rq 'REDACTED:' "$REC/test-set-0/tests" || fail "no redaction placeholder written"
pass "redaction as in active recording: Authorization and Cookie values never on disk"

kill -0 "$APP" 2>/dev/null || fail "the shop died"
after=$(pooled)
for port in $before; do
  grep -qx "$port" <<< "$after" || { echo "before: $before"; echo "after: $after"; fail "pooled connection $port is gone"; }
done
curl -sSf -o /dev/null "$BASE/health" || fail "the shop does not answer after reel detached"
pass "the shop kept its pid ($APP) and all $(wc -l <<< "$before") pooled connections (ss), and still answers"

/usr/bin/python3 - "$REC/test-set-0" <<'PY' || fail "passive recording content"
import glob, os, sys, yaml
root = sys.argv[1]
mocks = list(yaml.safe_load_all(open(os.path.join(root, "mocks.yaml"))))
kinds = {m["kind"] for m in mocks}
assert {"Http", "Postgres", "Redis"} <= kinds, kinds
# Joined mid-stream: no start-up was seen on the pooled connections.
startups = [m for m in mocks if m["kind"] == "Postgres" and any(
    (r.get("identifier") == "StartupRequest") for r in m["spec"].get("requests", []))]
assert not startups, "a PostgreSQL start-up was recorded on a pooled connection"
print("content ok:", len(mocks), "mocks,", sorted(kinds))
PY
pass "mocks of every kind (Http, Postgres, Redis), none of them a start-up"

# --- 3. The audit line.
grep -q 'audit (system log, authpriv): reel record: mode=passive target="pid '"$APP"' (app.py)" user=root uid=0 .* tests='"$ntests"' ' "$WORK/rec.err" \
  || { grep audit "$WORK/rec.err"; fail "audit line on stderr"; }
if [[ -n $LOGSOCK ]]; then
  wait_log "$LOGSOCK" "reel\[[0-9]*\]: reel record: mode=passive target=\"pid $APP (app.py)\""
  grep -q "^<85>" "$LOGSOCK" || { cat "$LOGSOCK"; fail "audit line is not authpriv.notice (<85>)"; }
  pass "audit line in the system log (authpriv.notice): who, target, start, duration, tests, mocks, bytes"
else
  # grep -c reads to the end: a grep -q that left early could end journalctl with SIGPIPE.
  journalctl -t reel --since "-5min" 2>/dev/null | grep -c "mode=passive target=\"pid $APP" > /dev/null \
    || fail "audit line not in the journal"
  pass "audit line in the journal"
fi

# --- 4. --max-tests detaches after that many tests.
( while true; do "$SHOP/traffic.sh" "$BASE" > /dev/null 2>&1 || true; sleep 0.1; done ) &
LOOP=$!
STARTED_PIDS+=($LOOP)
"$REEL" record -p "$WORK/capped" --pid "$APP" --max-tests 5 --duration 30s > /dev/null 2> "$WORK/capped.err" \
  || { cat "$WORK/capped.err"; fail "reel record --max-tests"; }
kill "$LOOP"; wait "$LOOP" 2>/dev/null || true
grep -q -- "--max-tests reached" "$WORK/capped.err" || { cat "$WORK/capped.err"; fail "did not stop at --max-tests"; }
[[ $(ls "$WORK/capped/test-set-0/tests" | wc -l) -eq 5 ]] || fail "--max-tests 5 wrote $(ls "$WORK/capped/test-set-0/tests" | wc -l)"
pass "--max-tests 5: detached after exactly 5 tests"

# --- 5. The same fixed traffic on fresh dependencies, recorded passively (attached to a shop
# already running, its database pool connected and used) and actively (reel starts the shop).
kill "$APP"; wait "$APP" 2>/dev/null || true
"$SHOP/deps.sh" stop "$DEPS" > /dev/null
fixed() {  # NAME passive|active: dependencies in $WORK/NAME, the recording in $WORK/NAME-rec
  "$SHOP/deps.sh" start "$WORK/$1" > "$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log"; fail "deps.sh start ($1)"; }
  cp "$WORK/$1/env" "$WORK/$1.env"
  source "$WORK/$1.env"
  local base=http://127.0.0.1:$SHOP_PORT pid
  if [[ $2 == passive ]]; then
    "$SHOP/app.py" > "$WORK/$1-app.log" 2>&1 &
    local app=$!
    STARTED_PIDS+=($app)
    wait_port "$SHOP_PORT"
    curl -sSf -o /dev/null "$base/products/1" || fail "warm-up ($1)"
    "$REEL" record -p "$WORK/$1-rec" --app-port "$SHOP_PORT" --pid "$app" > /dev/null 2> "$WORK/$1.err" &
    pid=$!
    wait_log "$WORK/$1.err" "recording pid $app"
  else
    "$REEL" record -p "$WORK/$1-rec" --app-port "$SHOP_PORT" -- "$SHOP/app.py" > /dev/null 2> "$WORK/$1.err" &
    pid=$!
    wait_port "$SHOP_PORT"
  fi
  "$SHOP/traffic.sh" "$base" > "$WORK/$1-traffic.log" || { cat "$WORK/$1-traffic.log"; fail "traffic ($1)"; }
  sleep 0.3
  kill -INT "$pid"; wait "$pid" || { cat "$WORK/$1.err"; fail "recording ($1)"; }
  [[ $2 == passive ]] && { kill "$app"; wait "$app" 2>/dev/null || true; }
  "$SHOP/deps.sh" stop "$WORK/$1" > /dev/null
  grep -q "test-set-0: 11 tests" "$WORK/$1.err" || { cat "$WORK/$1.err"; fail "$1: not 11 tests"; }
  echo "# $1: $(grep -Eo 'recorded .*' "$WORK/$1.err" | sed 's/recorded [^:]*: //')"
}
fixed passive-fixed passive
fixed active-fixed active
pass "the fixed traffic: 11 tests recorded passively and 11 actively"

# --- 6. Every dependency stopped; the recordings replay green.
for env in deps passive-fixed active-fixed; do
  source "$WORK/$env.env"
  for url in "${DATABASE_URL#*@}" "${REDIS_URL#redis://}" "${RATES_URL#http://}"; do
    hostport=${url%%/*}
    if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}") 2>/dev/null; then fail "$hostport still accepts"; fi
  done
done
replay() {  # ENV REC-DIR LABEL: the app with the environment it was recorded with
  source "$WORK/$1.env"
  "$REEL" test -p "$2" --test-sets test-set-0 -- "$SHOP/app.py" > /dev/null 2> "$WORK/$3.err" \
    || { tail -30 "$WORK/$3.err"; fail "$3: reel test failed"; }
  grep -q " 0 failed" "$WORK/$3.err" && grep -q " 0 unmatched" "$WORK/$3.err" \
    || { tail -30 "$WORK/$3.err"; fail "$3: failures or unmatched calls"; }
  echo "# $3: $(grep -E '^test-set-[0-9]+: ' "$WORK/$3.err")"
}
replay deps "$REC" passive-4s
grep -q "PASSED: $ntests passed, 0 failed" "$WORK/passive-4s.err" || fail "not all $ntests passed"
pass "reel test -- app.py: all $ntests passive tests pass with no dependency running, 0 unmatched"
replay passive-fixed "$WORK/passive-fixed-rec" passive-fixed-replay
replay active-fixed "$WORK/active-fixed-rec" active-fixed-replay
pass "the fixed traffic: the passive and the active test sets both replay green, 0 unmatched"

# --- 7. A changed build fails.
source "$WORK/deps.env"
set +e
SHOP_VARIANT=changed "$REEL" test -p "$REC" --test-sets test-set-0 -- "$SHOP/app.py" > /dev/null 2> "$WORK/changed.err"
code=$?
set -e
[[ $code -eq 1 ]] || { tail -20 "$WORK/changed.err"; fail "changed build: exit $code, want 1"; }
grep -q 'body.price (changed)' "$WORK/changed.err" || fail "diff does not name body.price"
pass "changed build: exit 1, the diff names body.price"

# --- 8. DNS: an app that resolves a name over UDP (a loopback DNS server of the test's own) as
# it runs; the queries and answers become DNS mocks.
cat > "$WORK/dns.py" <<'PY'
import socket, struct, sys, threading, time
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); srv.bind(("127.0.0.1", 0))
def serve():
    while True:
        q, peer = srv.recvfrom(512)
        end = 12
        while q[end] != 0: end += q[end] + 1
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 7])
        srv.sendto(q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + q[12:end + 5] + rr, peer)
threading.Thread(target=serve, daemon=True).start()
name = b"\x05rates\x04shop\x04test\x00"
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
i = 0
while True:
    i += 1
    c.sendto(struct.pack(">HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01",
             srv.getsockname())
    c.recvfrom(512)
    time.sleep(0.05)
PY
python3 "$WORK/dns.py" &
DNSAPP=$!
STARTED_PIDS+=($DNSAPP)
sleep 0.3
"$REEL" record -p "$WORK/dns" --pid "$DNSAPP" --duration 1s > /dev/null 2> "$WORK/dns.err" \
  || { cat "$WORK/dns.err"; fail "reel record --pid (DNS)"; }
/usr/bin/python3 - "$WORK/dns/test-set-0/mocks.yaml" <<'PY' || { cat "$WORK/dns.err"; fail "DNS mocks"; }
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
dns = [m for m in mocks if m["kind"] == "DNS"]
assert len(dns) >= 10, [m["kind"] for m in mocks]
for m in dns:
    assert m["spec"]["request"]["name"] == "rates.shop.test.", m["spec"]
    assert any("127.0.0.7" in a for a in m["spec"]["response"]["answers"]), m["spec"]
print(len(dns), "DNS mocks")
PY
pass "DNS over UDP seen by the capture becomes DNS mocks (name, type, answers)"

# --- 9. --cgroup: every process of a cgroup v2 directory the test makes (and removes).
CGROOT=$(findmnt -t cgroup2 -no TARGET | head -1)
[[ -n $CGROOT ]] || fail "no cgroup2 mount"
CG=$CGROOT/reel-e2e-passive-$$
mkdir "$CG"
stop_cg() { for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 100); do rmdir "$CG" 2>/dev/null && return; sleep 0.05; done; }
trap 'stop_cg; stop_all' EXIT
start_echo_server 127.0.0.1
echo "${STARTED_PIDS[-1]}" > "$CG/cgroup.procs"
mkdir -p "$WORK/www" && echo hello > "$WORK/www/hello.txt"
( while true; do curl -sf -o /dev/null "http://127.0.0.1:$SERVER_PORT/hello.txt" || true; sleep 0.05; done ) &
LOOP=$!
STARTED_PIDS+=($LOOP)
"$REEL" record -p "$WORK/cg" --cgroup "$CG" --duration 1s > /dev/null 2> "$WORK/cg.err" \
  || { cat "$WORK/cg.err"; fail "reel record --cgroup"; }
kill "$LOOP"; wait "$LOOP" 2>/dev/null || true
grep -q "recording cgroup $CG passively" "$WORK/cg.err" || { cat "$WORK/cg.err"; fail "--cgroup: no start line"; }
cgtests=$(ls "$WORK/cg/test-set-0/tests" 2>/dev/null | wc -l)
[[ $cgtests -ge 5 ]] || { cat "$WORK/cg.err"; fail "--cgroup: $cgtests tests"; }
grep -q 'target="cgroup '"$CG"'"' "$WORK/cg.err" || fail "--cgroup: audit target"
stop_cg
[[ ! -d $CG ]] || fail "the test's cgroup is still there"
pass "--cgroup: $cgtests tests from a server in a cgroup the test made, audit names the cgroup"

# --- 10. --passive -- CMD, and bad targets.
"$REEL" record -p "$WORK/cmd" --passive --duration 1s -- sleep 30 > /dev/null 2> "$WORK/cmd.err" \
  || { cat "$WORK/cmd.err"; fail "--passive -- CMD"; }
grep -q "recorded .*: 0 tests" "$WORK/cmd.err" || { cat "$WORK/cmd.err"; fail "--passive -- sleep"; }
pgrep -f "^sleep 30$" > /dev/null && fail "--passive -- CMD left its command running"
set +e
"$REEL" record --pid 999999999 2> "$WORK/bad1.err"; c1=$?
"$REEL" record --pid "$$" -- true 2> "$WORK/bad2.err"; c2=$?
"$REEL" record --pid "$$" --sample 0 2> "$WORK/bad3.err"; c3=$?
set -e
[[ $c1 -eq 2 ]] && grep -q "no process with pid 999999999" "$WORK/bad1.err" || { cat "$WORK/bad1.err"; fail "bad pid"; }
[[ $c2 -eq 2 ]] && grep -q "give exactly one target" "$WORK/bad2.err" || { cat "$WORK/bad2.err"; fail "two targets"; }
[[ $c3 -eq 2 ]] && grep -q -- "--sample" "$WORK/bad3.err" || { cat "$WORK/bad3.err"; fail "--sample 0"; }
pass "--passive -- CMD records and ends its command; a missing pid, two targets and --sample 0 are clear errors"

echo "record_passive: $CHECKS checks passed"
