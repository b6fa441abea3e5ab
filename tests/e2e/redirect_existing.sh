#!/usr/bin/env bash
# `reel redirect --pid` and `--cgroup` on a process that is already running: its connections made
# after reel attaches go through the relay; a process outside its cgroup is untouched; SIGINT
# stops reel with a summary, and the process keeps running un-redirected afterwards.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/www"
echo "payload-$RANDOM" > "$WORK/www/file"
start_echo_server 127.0.0.1
PORT=$SERVER_PORT

CG_ROOT=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
[[ -n $CG_ROOT ]] || fail "no cgroup2 mount"
CG="$CG_ROOT/reel-e2e-$$"
mkdir "$CG"
remove_cg() {
  if [[ -d $CG ]]; then
    for p in $(cat "$CG/cgroup.procs"); do kill "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do [[ -s $CG/cgroup.procs ]] || break; sleep 0.05; done
    rmdir "$CG"
  fi
}
trap 'remove_cg; cleanup' EXIT

# The "app": in its own cgroup, fetches the URL each time a trigger file appears.
cat > "$WORK/app.py" <<PY
import os, time, urllib.request
n = 0
while n < 3:
    trigger = "$WORK/go%d" % n
    if os.path.exists(trigger):
        body = urllib.request.urlopen("http://127.0.0.1:$PORT/file").read()
        with open("$WORK/got%d" % n, "wb") as f: f.write(body)
        n += 1
    time.sleep(0.02)
PY
bash -c "echo \$\$ > '$CG/cgroup.procs'; exec python3 '$WORK/app.py'" &
APP=$!
STARTED_PIDS+=($APP)

wait_file() {
  for _ in $(seq 200); do [[ -s $1 ]] && return 0; sleep 0.05; done
  fail "timed out waiting for $1"
}

# run_reel_on TARGET_ARGS... -> runs reel in the background until SIGINT; REEL_PID, logs in WORK.
run_reel_on() {
  "$REEL" redirect --to builtin --json "$@" > "$WORK/events" 2> "$WORK/summary" &
  REEL_PID=$!
  STARTED_PIDS+=($REEL_PID)
  for _ in $(seq 200); do grep -q 'redirecting' "$WORK/summary" && return 0; sleep 0.05; done
  cat "$WORK/summary"; fail "reel did not start"
}

stop_reel() {
  kill -INT "$REEL_PID"
  wait "$REEL_PID" || fail "reel exited non-zero after SIGINT"
}

# --pid
run_reel_on --pid "$APP"
touch "$WORK/go0"; wait_file "$WORK/got0"
cmp "$WORK/www/file" "$WORK/got0" || fail "--pid: app got different bytes"
# a process outside the cgroup, at the same time, is not redirected
curl -sf -o "$WORK/outside" "http://127.0.0.1:$PORT/file"
stop_reel
grep -q '"comm":"python3"' "$WORK/events" || fail "--pid: no event for the app"
grep -q '"comm":"curl"' "$WORK/events" && fail "--pid: curl outside the cgroup was redirected"
grep -qE 'relay: accepted +1$' "$WORK/summary" || { cat "$WORK/summary"; fail "--pid: not relayed once"; }
pass "--pid: the running app's new connection is relayed, curl outside is not"

# --cgroup
run_reel_on --cgroup "$CG"
touch "$WORK/go1"; wait_file "$WORK/got1"
stop_reel
cmp "$WORK/www/file" "$WORK/got1" || fail "--cgroup: app got different bytes"
grep -qE 'relay: accepted +1$' "$WORK/summary" || { cat "$WORK/summary"; fail "--cgroup: not relayed"; }
pass "--cgroup: the app's connection is relayed"

# After reel stops, the app keeps working, directly.
touch "$WORK/go2"; wait_file "$WORK/got2"
cmp "$WORK/www/file" "$WORK/got2" || fail "app broken after reel stopped"
pass "after SIGINT the app keeps working without reel"

# --pid on a process in the root cgroup is refused with a reason. This test's own shell moved
# nowhere, so use a process we start in the root cgroup.
bash -c "echo \$\$ > '$CG_ROOT/cgroup.procs'; exec sleep 30" &
ROOTED=$!
STARTED_PIDS+=($ROOTED)
for _ in $(seq 100); do [[ $(awk -F: '$1 == "0" {print $3}' /proc/$ROOTED/cgroup) == "/" ]] && break; sleep 0.02; done
if out=$(timeout 10 "$REEL" redirect --to builtin --pid "$ROOTED" 2>&1); then fail "--pid in the root cgroup accepted"; fi
grep -q "root cgroup" <<<"$out" || fail "--pid in root cgroup: unclear error: $out"
pass "--pid of a process in the root cgroup is refused with a reason"

echo "$CHECKS passed, 0 failed"
