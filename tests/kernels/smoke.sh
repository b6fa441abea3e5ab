#!/bin/bash
# reel's three jobs end to end on whatever kernel runs this (checks.sh runs it in each guest and
# on the host): `reel trace` of curl, `reel record` of a small HTTP app that calls an HTTP
# dependency, and `reel test` of that recording with the dependency stopped. Loopback only.
#
#   tests/kernels/smoke.sh BUILD_DIR      (root)
#
# Prints "ok - ..." per step and "FAIL: ..." with the step's output on the first failure.
set -uo pipefail
reel=$(cd "${1:?usage: smoke.sh BUILD_DIR}" && pwd)/reel
work=$(mktemp -d /tmp/reel-smoke.XXXXXX)
chmod 755 "$work"
export REEL_CA_DIR=$work/ca  # record makes its CA; the guest's /var/lib is read-only
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1"
  [[ -z ${2:-} ]] || sed 's/^/  | /' "$2" | tail -30
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Polls (up to 60 s: a TCG guest is slow) until URL answers.
wait_http() {
  for _ in $(seq 600); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
  return 1
}

dep_port=$(free_port)
app_port=$(free_port)
mkdir -p "$work/dep"
echo 42 > "$work/dep/rate.txt"
python3 -m http.server "$dep_port" --bind 127.0.0.1 -d "$work/dep" > "$work/dep.log" 2>&1 &
dep=$!
pids+=("$dep")
wait_http "http://127.0.0.1:$dep_port/rate.txt" || fail "the dependency did not start" "$work/dep.log"

# trace
"$reel" trace --format json -o "$work/trace.json" -- curl -s "http://127.0.0.1:$dep_port/rate.txt" \
  > "$work/trace.out" 2>&1 || fail "reel trace exited $?" "$work/trace.out"
grep -q '"target":"/rate.txt"' "$work/trace.json" && grep -q '"status":200' "$work/trace.json" ||
  fail "reel trace did not show GET /rate.txt 200" "$work/trace.json"
echo "ok - trace: curl's GET /rate.txt 200"

# record: the app answers /price from the dependency
cat > "$work/app.py" <<PY
import http.server, urllib.request
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        rate = urllib.request.urlopen("http://127.0.0.1:$dep_port/rate.txt", timeout=30).read()
        body = b"price=" + rate.strip() + b"\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", $app_port), H).serve_forever()
PY
"$reel" record -p "$work/rec" --app-port "$app_port" -- python3 "$work/app.py" > "$work/record.out" 2>&1 &
rec=$!
pids+=("$rec")
wait_http "http://127.0.0.1:$app_port/price" || fail "the app under reel record did not start" "$work/record.out"
got=$(curl -s "http://127.0.0.1:$app_port/price?n=2")
[[ $got == price=42 ]] || fail "the app under reel record answered '$got'" "$work/record.out"
sleep 1
kill -INT "$rec"
wait "$rec" || fail "reel record exited $?" "$work/record.out"
grep -Eq 'recorded .*: 2 tests, 2 mocks' "$work/record.out" || fail "reel record did not record 2 tests and 2 mocks" "$work/record.out"
echo "ok - record: 2 tests, 2 mocks"

# test: the dependency is gone, its answers come from the mocks
kill "$dep"
wait "$dep" 2>/dev/null
"$reel" test -p "$work/rec" -- python3 "$work/app.py" > "$work/test.out" 2>&1 || fail "reel test exited $?" "$work/test.out"
grep -q '2 passed, 0 failed' "$work/test.out" && grep -q ' 0 unmatched' "$work/test.out" ||
  fail "reel test did not pass 2 tests with 0 unmatched mocks" "$work/test.out"
echo "ok - test: 2 passed, 0 unmatched, dependency stopped"
