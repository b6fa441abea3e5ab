#!/usr/bin/env bash
# The app under test crashes during `reel test`: a tiny HTTP app recorded whole, then replayed as a
# build that exits with code 3 in the middle of its 2nd request. Each test says what happened to
# it ("the app exited with code 3"), the run exits 1, and it ends in bounded time.
source "$(dirname "$0")/lib.sh"
FAULT=$E2E_DIR/fixtures/fault_servers.py
APP_PORT=$(free_port)
REC=$WORK/rec

"$REEL" record -p "$REC" --app-port "$APP_PORT" -- "$FAULT" crashing-app "$APP_PORT" 1000 3 \
  > "$WORK/rec.out" 2> "$WORK/rec.err" &
RPID=$!
STARTED_PIDS+=("$RPID")
wait_port "$APP_PORT"
for i in 1 2 3 4; do curl -sSf -o /dev/null "http://127.0.0.1:$APP_PORT/item/$i" || fail "GET /item/$i"; done
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec.err"; fail "reel record exited $?"; }
grep -q "test-set-0: 4 tests" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "expected 4 tests"; }
pass "recorded 4 tests of a healthy build"

t0=$SECONDS
code=0
timeout 60 "$REEL" test -p "$REC" --test-sets test-set-0 --report "junit:$WORK/junit.xml" -- \
  "$FAULT" crashing-app "$APP_PORT" 2 3 > /dev/null 2> "$WORK/test.err" || code=$?
took=$((SECONDS - t0))
cat "$WORK/test.err" | sed 's/^/#   /'
[[ $code -ne 124 ]] || fail "reel test hung (killed by timeout after 60 s)"
[[ $code -eq 1 ]] || fail "reel test exited $code, want 1 (a test failed)"
((took < 20)) || fail "reel test took $took s"
pass "reel test exited 1 after $took s"

grep -Eq "PASS .*GET .*/item/1" "$WORK/test.err" || fail "test 1 (before the crash) did not pass"
grep -Eq "/item/2.*the app exited with code 3|the app exited with code 3 during this test" "$WORK/test.err" \
  || fail "the test the app crashed in does not say the app exited with code 3"
for i in 3 4; do
  grep -Eq "/item/$i.*the app exited with code 3 before this test|the app exited with code 3 before this test" \
    "$WORK/test.err" || fail "test $i does not say the app had exited"
done
[[ $(grep -c "the app exited with code 3" "$WORK/test.err") -ge 3 ]] || fail "not every later test names the exit code"
grep -q "1 passed, 3 failed" "$WORK/test.err" || fail "summary is not 1 passed, 3 failed"
/usr/bin/python3 -c "
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
bad = r.get('failures') or r.get('errors')
assert r.get('tests') == '4' and int(r.get('failures', 0)) + int(r.get('errors', 0)) == 3, r.attrib
text = E.tostring(r, encoding='unicode')
assert text.count('the app exited with code 3') >= 3, text" "$WORK/junit.xml" || fail "JUnit report"
pass "per test: 1 passed, the crash and both later tests report 'the app exited with code 3' (terminal and JUnit)"
