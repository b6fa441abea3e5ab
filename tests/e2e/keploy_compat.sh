#!/usr/bin/env bash
# reel test on a test set in Keploy's own format (written the way Keploy writes it: Http tests,
# Http and Redis mocks tied to tests by their timestamps, no reel metadata), with no dependency
# running: both tests pass, every call answered by the mock of its own test.
source "$(dirname "$0")/lib.sh"
FIX=$E2E_DIR/fixtures/keploy
cp -r "$FIX" "$WORK/keploy"
PORT=$(free_port)
# Nothing listens at these: every call must be answered by reel's mock server.
REDIS=127.0.0.1:$(free_port)
API=http://127.0.0.1:$(free_port)

"$REEL" test -p "$WORK/keploy" --app-port "$PORT" --json -- \
  env PORT="$PORT" REDIS="$REDIS" API="$API" "$FIX/weather_app.py" > "$WORK/out.json" 2> "$WORK/err" \
  || { cat "$WORK/err"; fail "reel test on a Keploy test set"; }
grep -q "PASSED: 2 passed, 0 failed" "$WORK/err" || { cat "$WORK/err"; fail "not both passed"; }
/usr/bin/python3 - "$WORK/out.json" <<'PY' || fail "JSON summary"
import json, sys
s = json.load(open(sys.argv[1]))
set0 = s["test_sets"][0]
assert set0["status"] == "PASSED" and set0["passed"] == 2, set0
assert set0["mocks"] == {"exact": 4, "structural": 0, "unmatched": 0}, set0["mocks"]
PY
pass "Keploy-format test set: 2 tests pass, 4 mocks (Redis miss/set/hit, Http) matched exactly, 0 unmatched"
