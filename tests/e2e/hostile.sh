#!/usr/bin/env bash
# Hostile input on every path reel parses traffic: malformed and oversized HTTP (1 MB header,
# 20,000 headers, bad and huge chunk sizes, Content-Length + Transfer-Encoding, two lengths),
# truncated PostgreSQL / Redis / MySQL frames, TLS-looking garbage, random bytes (tests/e2e/
# fixtures/hostile.py lists them). Each goes on its own connection to a loopback echo server:
#   1. seen by `reel trace` (the echo server is the traced process),
#   2. through `reel record`'s relay (the sender is the recorded app, the echo server its dependency),
#   3. at `reel mock`'s mock server (the sender runs under reel mock, nothing real reachable).
# reel keeps running, says how many frames it could not parse, and never breaks a connection: in
# 1 and 2 every byte comes back exactly as sent; in 3 every connection gets an answer or a close
# within its deadline, never a hang.
source "$(dirname "$0")/lib.sh"
HOSTILE=$E2E_DIR/fixtures/hostile.py
NCASES=$("$HOSTILE" cases | wc -l)
HOSTILE_TRIED=0

# all_echoed FILE WHERE: every case came back byte for byte.
all_echoed() {
  /usr/bin/python3 - "$1" "$NCASES" <<'PY' || fail "$2: a connection was broken"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
bad = [r for r in rows if not r["echoed"]]
for r in bad: print("  broken:", r, file=sys.stderr)
assert len(rows) == int(sys.argv[2]) and not bad
PY
}

start_echo() {
  "$HOSTILE" echo "$WORK/$1.port" &
  STARTED_PIDS+=($!)
  local deadline=$((SECONDS + 10))
  until [[ -s $WORK/$1.port ]]; do ((SECONDS < deadline)) || fail "echo server $1 did not start"; sleep 0.05; done
}

# --- 1. reel trace ------------------------------------------------------------------------------
"$REEL" trace --format json -o "$WORK/trace.json" -- "$HOSTILE" echo "$WORK/traced.port" \
  > "$WORK/trace.out" 2> "$WORK/trace.err" &
TPID=$!
STARTED_PIDS+=("$TPID")
deadline=$((SECONDS + 10))
until [[ -s $WORK/traced.port ]]; do ((SECONDS < deadline)) || { cat "$WORK/trace.err"; fail "traced echo server did not start"; }; sleep 0.05; done
"$HOSTILE" send "$(cat "$WORK/traced.port")" "$WORK/sent1.jsonl"
all_echoed "$WORK/sent1.jsonl" "reel trace"
kill -0 "$TPID" || { cat "$WORK/trace.err"; fail "reel trace died"; }
kill -INT "$TPID"
code=0
wait "$TPID" || code=$?
[[ $code -eq 0 || $code -eq 130 ]] || { cat "$WORK/trace.err"; fail "reel trace exited $code"; }
line=$(grep -E "^capture: .* frames unparsable" "$WORK/trace.err") || { cat "$WORK/trace.err"; fail "no capture summary"; }
echo "# reel trace: $line"
unparsable=$(sed -E 's/.* ([0-9]+) frames unparsable.*/\1/' <<<"$line")
((unparsable > 0)) || fail "reel trace counted no unparsable frame"
HOSTILE_TRIED=$((HOSTILE_TRIED + NCASES))
pass "reel trace: $NCASES hostile connections all echoed intact, trace still running at the end, $unparsable frames counted unparsable"

# --- 2. reel record's relay ----------------------------------------------------------------------
start_echo upstream
UP=$(cat "$WORK/upstream.port")
code=0
timeout 120 "$REEL" record -p "$WORK/rec" -- "$HOSTILE" send "$UP" "$WORK/sent2.jsonl" \
  > "$WORK/rec.out" 2> "$WORK/rec.err" || code=$?
[[ $code -eq 0 ]] || { cat "$WORK/rec.err"; fail "reel record exited $code"; }
all_echoed "$WORK/sent2.jsonl" "reel record relay"
line=$(grep -E "frames unparsable" "$WORK/rec.err") || { cat "$WORK/rec.err"; fail "record does not count unparsable frames"; }
echo "# reel record: $line"
rec_unparsable=$(sed -E 's/.* ([0-9]+) frames unparsable.*/\1/' <<<"$line")
((rec_unparsable > 0)) || fail "reel record counted no unparsable frame"
grep -q "relay: \|mocks" "$WORK/rec.err" || true
HOSTILE_TRIED=$((HOSTILE_TRIED + NCASES))
pass "reel record: $NCASES hostile connections relayed byte for byte, exit 0, $rec_unparsable frames counted unparsable"

# --- 3. reel mock's mock server -------------------------------------------------------------------
# The recording holds a mock of an ordinary HTTP call only, so every hostile connection meets the
# mock server's parsers with nothing to match.
mkdir -p "$WORK/plain/test-set-0"
printf 'version: api.keploy.io/v1beta1\nkind: Http\nname: mock-0\nspec:\n  metadata: {}\n  req:\n    method: GET\n    proto_major: 1\n    proto_minor: 1\n    url: http://127.0.0.1:%s/ok\n    header: {Host: "127.0.0.1:%s"}\n    body: ""\n  resp:\n    status_code: 200\n    header: {Content-Length: "2"}\n    body: ok\n' \
  "$UP" "$UP" > "$WORK/plain/test-set-0/mocks.yaml"
mkdir -p "$WORK/plain/test-set-0/tests"
cat > "$WORK/mockapp.sh" <<EOF
#!/bin/bash
"$HOSTILE" send $UP "$WORK/sent3.jsonl" || exit 3
curl -sS -m 10 http://127.0.0.1:$UP/ok
EOF
chmod +x "$WORK/mockapp.sh"
code=0
timeout 120 "$REEL" mock -p "$WORK/plain" -- "$WORK/mockapp.sh" > "$WORK/mock.out" 2> "$WORK/mock.err" || code=$?
[[ $code -eq 0 ]] || { cat "$WORK/mock.err"; fail "reel mock exited $code (the app's exit code), want 0"; }
[[ $(cat "$WORK/mock.out") == ok ]] || { cat "$WORK/mock.err"; fail "the ordinary call after the hostile ones was not answered from its mock"; }
/usr/bin/python3 - "$WORK/sent3.jsonl" "$NCASES" <<'PY' || fail "reel mock: a connection hung"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == int(sys.argv[2]), len(rows)
slow = [r for r in rows if r["error"] == "timeout" or r["seconds"] >= 10]
for r in slow: print("  hung:", r, file=sys.stderr)
assert not slow
for r in rows: print(f"#   {r['case']:26} {r['received']:>8} bytes back, {r['error'] or 'closed'}")
PY
line=$(grep -E "rejected" "$WORK/mock.err") || { cat "$WORK/mock.err"; fail "reel mock does not count rejected input"; }
echo "# reel mock: $line"
mock_rejected=$(sed -E 's/.* ([0-9]+) connections? rejected.*/\1/' <<<"$line")
((mock_rejected > 0)) || fail "reel mock counted no rejected connection"
HOSTILE_TRIED=$((HOSTILE_TRIED + NCASES))
pass "reel mock: $NCASES hostile connections each answered or closed in time, the ordinary call after them still served from its mock, $mock_rejected rejected and counted"
echo "# hostile: $HOSTILE_TRIED inputs tried; rejected/unparsable: trace $unparsable frames, record $rec_unparsable frames, mock $mock_rejected connections"
