#!/usr/bin/env bash
# 10,000 concurrent connections through `reel redirect --to builtin`, then slow clients (one byte
# per second) next to fast ones. Checks what an operator would watch: reel's descriptors and
# memory while they are open and after they close, that every connection either works or is
# refused at once (never hangs), and that the slow clients cost the fast ones no latency.
#
# Descriptors: a relayed connection holds 2 in reel (client + upstream). The client and the echo
# server raise their own soft RLIMIT_NOFILE to the hard limit; reel raises its own the same way.
# This machine gives no CAP_SYS_RESOURCE, so nobody can go above the hard limit (printed below):
# with 20,000, reel can hold about 9,850 of the 10,000 at once (it keeps 256 in reserve for its
# own files) and must refuse the rest cleanly (reset, counted), which this test checks too.
source "$(dirname "$0")/lib.sh"
MANY=$E2E_DIR/fixtures/many_conns.py
N=${FAULT_CONNS:-10000}
SLOW=${FAULT_SLOW:-200}
HARD=$(ulimit -Hn)
echo "# RLIMIT_NOFILE hard limit $HARD (no CAP_SYS_RESOURCE to raise it); reel, the client and the server raise their soft limit to it"

"$MANY" server "$WORK/server.port" &
STARTED_PIDS+=($!)
deadline=$((SECONDS + 10))
until [[ -s $WORK/server.port ]]; do ((SECONDS < deadline)) || fail "echo server did not start"; sleep 0.05; done
PORT=$(cat "$WORK/server.port")

mkdir "$WORK/steps"
"$REEL" redirect --to builtin -- "$MANY" client "$PORT" "$N" "$SLOW" "$WORK/steps" \
  > "$WORK/reel.out" 2> "$WORK/reel.err" &
RPID=$!
STARTED_PIDS+=("$RPID")

# wait_step PHASE: the client reached PHASE; prints its JSON.
wait_step() {
  local deadline=$((SECONDS + 60))
  until [[ -s $WORK/steps/$1.json ]]; do
    kill -0 "$RPID" 2>/dev/null || { tail -25 "$WORK/reel.err"; ls "$WORK/steps"; fail "reel exited before phase $1"; }
    ((SECONDS < deadline)) || { cat "$WORK/reel.err"; fail "phase $1 not reached in 60 s"; }
    sleep 0.05
  done
  cat "$WORK/steps/$1.json"
}
go() { touch "$WORK/steps/$1.go"; }
fds() { ls "/proc/$RPID/fd" | wc -l; }
rss_mb() { echo $(($(awk '/^VmRSS/ {print $2}' "/proc/$RPID/status") / 1024)); }
field() { /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$WORK/steps/$1.json" "$2"; }

# The kernel's own TCP drops and resets (system-wide), to tell reel's refusals from the kernel's.
tcp_counters() {
  /usr/bin/python3 - <<'PY'
names = ("ListenOverflows", "ListenDrops", "TCPReqQFullDrop", "SyncookiesSent", "SyncookiesFailed",
         "TCPAbortOnData", "TCPAbortOnClose", "EstabResets", "AttemptFails")
out = []
for path in ("/proc/net/netstat", "/proc/net/snmp"):
    lines = open(path).read().splitlines()
    for head, vals in zip(lines[::2], lines[1::2]):
        for k, v in zip(head.split()[1:], vals.split()[1:]):
            if k in names:
                out.append(f"{k}={v}")
print(" ".join(out))
PY
}
tcp_before=$(tcp_counters)
wait_step started > /dev/null
fd0=$(fds) rss0=$(rss_mb)
go started
wait_step open > /dev/null
fd1=$(fds) rss1=$(rss_mb)
ok=$(field open ok) reset=$(field open reset) hang=$(field open hang) wrong=$(field open wrong)
echo "# $N connections: $ok echoed and held open, $reset refused/reset, $hang hung, $wrong wrong bytes, in $(field open seconds) s"
echo "# where the resets happened: $(field open reset_why)"
echo "# reel: $fd0 -> $fd1 descriptors, $rss0 -> $rss1 MB RSS"
((hang == 0 && wrong == 0)) || fail "$hang connections hung, $wrong got wrong bytes"
((ok + reset == N)) || fail "ok $ok + reset $reset != $N"
# reel keeps limit/16 descriptors (at most 256) in reserve for its own files; the rest is room for
# connections (fd0 was counted after the BPF programs loaded, so this is a floor).
capacity=$(((HARD - fd0 - 256) / 2))
want=$((N < capacity ? N : capacity))
((ok >= want)) || fail "only $ok connections relayed, want at least $want"
((fd1 <= HARD)) || fail "reel holds $fd1 descriptors, above its limit $HARD"
((fd1 <= fd0 + 2 * ok + 64)) || fail "reel holds $fd1 descriptors for $ok connections (base $fd0)"
((rss1 - rss0 < 200)) || fail "reel grew $((rss1 - rss0)) MB for $ok idle connections"
kill -0 "$RPID" || fail "reel died"
pass "$N concurrent connections: $ok relayed and held, $reset refused at once (descriptor limit), none hung; reel $fd1 fds, +$((rss1 - rss0)) MB"

go open
wait_step measured > /dev/null
fd2=$(fds) rss2=$(rss_mb)
during=$(field measured during_slow.p99_ms) alone=$(field measured alone.p99_ms)
echo "# fast round trips (new connection each) p50/p99/max ms: with $SLOW slow clients $(field measured during_slow.p50_ms)/$during/$(field measured during_slow.max_ms), alone $(field measured alone.p50_ms)/$alone/$(field measured alone.max_ms); slow clients moved $(field measured slow_bytes) bytes"
/usr/bin/python3 -c 'import sys; d, a = map(float, sys.argv[1:]); sys.exit(0 if d < max(50.0, 5 * a) else 1)' \
  "$during" "$alone" || fail "slow clients stall the fast ones: p99 $during ms vs $alone ms alone"
[[ $(field measured slow_bytes) -ge $((SLOW * 5)) ]] || fail "the slow clients did not get their bytes echoed"
pass "$SLOW clients at one byte per second: fast p99 $during ms (alone $alone ms)"

go measured
wait_step closed > /dev/null
deadline=$((SECONDS + 15))
until (($(fds) <= fd0 + 8)); do
  ((SECONDS < deadline)) || fail "reel still holds $(fds) descriptors after every connection closed (base $fd0)"
  sleep 0.1
done
fd3=$(fds) rss3=$(rss_mb)
go closed
code=0
wait "$RPID" || code=$?
[[ $code -eq 0 ]] || { tail -20 "$WORK/reel.err"; fail "reel redirect exited $code"; }
echo "# after close: $fd3 descriptors (base $fd0), $rss3 MB RSS (peak $rss1/$rss2)"
grep -E "relay: " "$WORK/reel.err" | sed 's/^/#   /'
pass "every connection closed: reel back to $fd3 descriptors (base $fd0); exit 0"
if ((reset > 0)); then
  grep -Eq "relay: refused, out of fds +$reset\$" "$WORK/reel.err" || {
    echo "# kernel TCP counters before: $tcp_before"
    echo "# kernel TCP counters after:  $(tcp_counters)"
    fail "the summary does not count the $reset connections refused for lack of descriptors"
  }
  [[ $(grep -c "out of file descriptors" "$WORK/reel.err") -le 5 ]] || fail "one log line per refused connection"
  pass "the summary counts the $reset refused connections ('relay: refused, out of fds'); the log says so $(grep -c "out of file descriptors" "$WORK/reel.err") times, not $reset"
fi
