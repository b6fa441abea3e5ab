#!/usr/bin/env bash
# Faults while recording, each checked the way a user would check it:
#   1. kill -9 of `reel record` on the shop example: the app keeps serving new requests, whose new
#      connections go straight to the dependencies; no BPF program of reel's stays loaded or
#      attached to the app's cgroup; the tests already written load and pass in `reel test`.
#   2. A dependency dies halfway through a response: the app sees the failure at once (no hang)
#      and the recording keeps the call, with its partial answer, marked reel.unanswered.
#   3. The disk fills up (a 2 MB tmpfs this test mounts): reel stops with an error that says so,
#      and everything written before is whole and replays.
source "$(dirname "$0")/lib.sh"
SHOP=$E2E_DIR/../../examples/shop
FAULT=$E2E_DIR/fixtures/fault_servers.py
DEPS=$WORK/deps
APP_CGROUP=""
FULL=$WORK/full
cleanup_faults() {
  if mountpoint -q "$FULL" 2>/dev/null; then umount "$FULL" || umount -l "$FULL"; fi
  "$SHOP/deps.sh" stop "$DEPS" >/dev/null 2>&1 || true
  # The cgroup reel made for the app it started before it was killed: ours to remove once empty.
  [[ -n $APP_CGROUP && -d $APP_CGROUP ]] && rmdir "$APP_CGROUP" 2>/dev/null || true
  cleanup
}
trap cleanup_faults EXIT

CG2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
[[ -n $CG2 ]] || fail "no cgroup2 mount"

# reel_prog_ids PID CGROUP: ids of the BPF programs PID has attached: its tracepoints (bpftool
# perf show names the owning pid) and what is attached to CGROUP.
reel_prog_ids() {
  bpftool -j perf show | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("pid") == int(sys.argv[1]): print(p["prog_id"])' "$1"
  bpftool -j cgroup show "$2" | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin): print(p["id"])'
}

# --- 1. kill -9 mid-recording -------------------------------------------------------------------
"$SHOP/deps.sh" start "$DEPS" > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; fail "deps.sh start"; }
source "$DEPS/env"
BASE=http://127.0.0.1:$SHOP_PORT
REDIS_PORT=${REDIS_URL##*:}; REDIS_PORT=${REDIS_PORT%%/*}
REC=$WORK/rec
"$REEL" record -p "$REC" --app-port "$SHOP_PORT" -- "$SHOP/app.py" > "$WORK/rec1.out" 2> "$WORK/rec1.err" &
RPID=$!
STARTED_PIDS+=("$RPID")
wait_port "$SHOP_PORT"
for path in /health /products /products/2 "/products/1/price?currency=EUR"; do
  curl -sSf -o /dev/null "$BASE$path" || { cat "$WORK/rec1.err"; fail "GET $path while recording"; }
done
deadline=$((SECONDS + 15))
until [[ $(ls "$REC/test-set-0/tests" 2>/dev/null | wc -l) -eq 4 ]]; do
  ((SECONDS < deadline)) || { cat "$WORK/rec1.err"; fail "4 tests never appeared on disk"; }
  sleep 0.05
done
APP_PID=$(pgrep -P "$RPID" | head -1)
[[ -n $APP_PID ]] || fail "no app process under reel"
STARTED_PIDS+=("$APP_PID")
APP_CGROUP=$CG2$(sed -n 's/^0:://p' "/proc/$APP_PID/cgroup")
[[ $APP_CGROUP != "$CG2/" && -d $APP_CGROUP ]] || fail "app cgroup not found"
attached_before=$(bpftool cgroup show "$APP_CGROUP" | tail -n +2 | wc -l)
((attached_before > 0)) || fail "nothing attached to $APP_CGROUP while recording (test is blind)"
progs_before=$(reel_prog_ids "$RPID" "$APP_CGROUP" | sort -u)
(($(wc -w <<<"$progs_before") > attached_before)) || fail "no capture tracepoints of reel found (test is blind)"
relay_ports=$(ss -Hltnp | awk -v p="pid=$RPID," 'index($0, p) {n=split($4, a, ":"); print a[n]}' | sort -u)
[[ -n $relay_ports ]] || fail "reel's relay port not found"
echo "# before kill -9: $attached_before programs attached to $APP_CGROUP, $(wc -w <<<"$progs_before") BPF programs of reel in all (cgroup + tracepoints), relay on port(s) $(echo $relay_ports)"

kill -9 "$RPID"
wait "$RPID" 2>/dev/null || true
deadline=$((SECONDS + 10))
until [[ $(bpftool cgroup show "$APP_CGROUP" | tail -n +2 | wc -l) -eq 0 ]]; do
  ((SECONDS < deadline)) || { bpftool cgroup show "$APP_CGROUP"; fail "BPF programs still attached to the app's cgroup after kill -9"; }
  sleep 0.05
done
left=()
for id in $progs_before; do
  until ! bpftool prog show id "$id" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { left+=("$id"); break; }
    sleep 0.05
  done
done
((${#left[@]} == 0)) || fail "BPF programs ${left[*]} still loaded after kill -9"
pass "kill -9: nothing attached to the app's cgroup, all $(wc -w <<<"$progs_before") of reel's BPF programs unloaded"

kill -0 "$APP_PID" 2>/dev/null || fail "the app died with reel"
for port in $relay_ports; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "the relay port $port still accepts"; fi
done
# The app's pooled connections went through the dead relay and are broken; the shop notices on
# first use. What counts is that requests keep working once it has made new connections.
ok=0 tries=0
deadline=$((SECONDS + 20))
while ((ok < 5)); do
  ((SECONDS < deadline)) || fail "the app does not serve after reel died ($ok of $tries requests ok)"
  tries=$((tries + 1))
  if curl -sSf -o /dev/null -m 10 "$BASE/products/$((tries % 3 + 1))/price?currency=GBP" 2>/dev/null; then
    ok=$((ok + 1))
  else
    ok=0
  fi
done
ss -Htnp state established "( dport = :$REDIS_PORT )" | grep -q "pid=$APP_PID," \
  || { ss -Htnp state established | grep "pid=$APP_PID," >&2; fail "no direct connection from the app to Redis"; }
pass "after kill -9 the app serves 5 requests in a row ($((tries - 5)) failed first on connections the relay held), its new Redis connection goes direct to :$REDIS_PORT and the relay port refuses"

kill "$APP_PID"
deadline=$((SECONDS + 10))
while kill -0 "$APP_PID" 2>/dev/null; do ((SECONDS < deadline)) || kill -9 "$APP_PID"; sleep 0.05; done
rmdir "$APP_CGROUP" 2>/dev/null || true
"$SHOP/deps.sh" stop "$DEPS" > /dev/null
timeout 60 "$REEL" test -p "$REC" --test-sets test-set-0 -- "$SHOP/app.py" > /dev/null 2> "$WORK/test1.err" \
  || { cat "$WORK/test1.err"; fail "tests written before kill -9 do not replay"; }
grep -q "PASSED: 4 passed, 0 failed" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "test-set-0"; }
pass "the 4 tests written before kill -9 load and pass with every dependency stopped"

# --- 2. a dependency dies mid-response ----------------------------------------------------------
"$FAULT" dying-upstream "$WORK/up.port" &
UP_PID=$!
STARTED_PIDS+=("$UP_PID")
deadline=$((SECONDS + 10))
until [[ -s $WORK/up.port ]]; do ((SECONDS < deadline)) || fail "upstream did not start"; sleep 0.05; done
APP_PORT=$(free_port)
REC2=$WORK/rec2
"$REEL" record -p "$REC2" --app-port "$APP_PORT" -- "$FAULT" calling-app "$APP_PORT" \
  "http://127.0.0.1:$(cat "$WORK/up.port")/data" > "$WORK/rec2.out" 2> "$WORK/rec2.err" &
RPID=$!
STARTED_PIDS+=("$RPID")
wait_port "$APP_PORT"
t0=$(date +%s%N)
code=$(curl -s -m 30 -o "$WORK/call.json" -w '%{http_code}' "http://127.0.0.1:$APP_PORT/call") || true
ms=$((($(date +%s%N) - t0) / 1000000))
[[ $code == 502 ]] || { cat "$WORK/call.json" "$WORK/rec2.err"; fail "app answered $code, want 502"; }
grep -Eq 'IncompleteRead|ConnectionReset|RemoteDisconnected' "$WORK/call.json" \
  || fail "the app's error is not a reset/EOF: $(cat "$WORK/call.json")"
((ms < 5000)) || fail "the app took $ms ms to see the failure (a hang?)"
pass "upstream died mid-response: the app saw $(sed -E 's/.*"error": "([A-Za-z]+)".*/\1/' "$WORK/call.json") after $ms ms and answered 502"
wait "$UP_PID" 2>/dev/null || true
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec2.err"; fail "reel record exited $?"; }
echo "# reel record summary: $(grep '^capture:' "$WORK/rec2.err")"
grep -q "1 calls without an answer" "$WORK/rec2.err" || { cat "$WORK/rec2.err"; fail "summary does not count the unanswered call"; }
/usr/bin/python3 - "$REC2/test-set-0/mocks.yaml" <<'PY' || fail "the failed call is not in the recording"
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
calls = [m for m in mocks if m["kind"] == "Http" and m["spec"]["req"]["url"].endswith("/data")]
assert len(calls) == 1, [m["spec"]["req"]["url"] for m in mocks]
meta, resp = calls[0]["spec"]["metadata"], calls[0]["spec"].get("resp") or {}
assert meta.get("reel.unanswered") == "true", meta
print(f"# mock: reel.unanswered=true, partial body {len(resp.get('body') or '')} bytes")
PY
pass "the recording keeps the failed call as an Http mock marked reel.unanswered; the summary counts it"

# --- 3. disk full ---------------------------------------------------------------------------------
mkdir -p "$FULL"
mount -t tmpfs -o size=2m tmpfs "$FULL"
APP_PORT=$(free_port)
"$REEL" record -p "$FULL/rec" --app-port "$APP_PORT" -- "$FAULT" calling-app "$APP_PORT" none \
  > "$WORK/rec3.out" 2> "$WORK/rec3.err" &
RPID=$!
STARTED_PIDS+=("$RPID")
wait_port "$APP_PORT"
sent=0
while kill -0 "$RPID" 2>/dev/null && ((sent < 40)); do
  curl -s -m 10 -o /dev/null "http://127.0.0.1:$APP_PORT/big" || true
  sent=$((sent + 1))
  # One test at a time on disk, so what "earlier files" means is exact.
  deadline=$((SECONDS + 10))
  until [[ $(ls "$FULL/rec/test-set-0/tests" 2>/dev/null | wc -l) -ge $sent ]] || ! kill -0 "$RPID" 2>/dev/null; do
    ((SECONDS < deadline)) || { cat "$WORK/rec3.err"; fail "test $sent never written (disk not full yet)"; }
    sleep 0.05
  done
done
code=0
wait "$RPID" || code=$?
[[ $code -ne 0 ]] || { cat "$WORK/rec3.err"; fail "reel record kept going on a full disk ($sent requests)"; }
grep -q "No space left on device" "$WORK/rec3.err" || { cat "$WORK/rec3.err"; fail "the error does not say the disk is full"; }
echo "# $(grep -m1 "No space left" "$WORK/rec3.err")"
written=$(ls "$FULL/rec/test-set-0/tests" | wc -l)
((written > 0)) || fail "nothing was written before the disk filled"
if pgrep -f "calling-app $APP_PORT" >/dev/null; then fail "the app outlived reel's exit"; fi
pass "disk full after $sent requests: reel exited $code with 'No space left on device'"

cp -r "$FULL/rec" "$WORK/rec3"
umount "$FULL"
APP_PORT2=$APP_PORT
timeout 60 "$REEL" test -p "$WORK/rec3" --test-sets test-set-0 -- "$FAULT" calling-app "$APP_PORT2" none \
  > /dev/null 2> "$WORK/test3.err" || { cat "$WORK/test3.err"; fail "the files written before the disk filled do not replay"; }
grep -q "PASSED: $written passed, 0 failed" "$WORK/test3.err" || { cat "$WORK/test3.err"; fail "replay"; }
pass "the $written tests written before the disk filled load and pass"
