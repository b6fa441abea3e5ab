#!/usr/bin/env bash
# `reel trace` shows the HTTPS of Go programs as plaintext: Go's crypto/tls is part of the
# executable (no libssl), so reel probes (*tls.Conn).Read and Write on every RET. A Go client
# (net/http) against nginx with TLS, and a Go server started by reel driven by curl; each case
# asserts the exact set of exchanges, marked tls, and that every TLS call found its socket.
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || fail "go is not installed (scripts/setup installs golang-go)"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup installs it)"

# The Go programs, built here from the standard library only (the cache lasts between runs).
export GOCACHE=${GOCACHE:-/tmp/reel-go-cache} GOFLAGS=-buildvcs=false HOME=${HOME:-/root}
for prog in client server; do
  go build -o "$WORK/go$prog" "$E2E_DIR/fixtures/gotls/$prog.go" 2> "$WORK/build.log" \
    || { cat "$WORK/build.log"; fail "go build $prog.go"; }
done
# Stripped, as release builds often are: no symbol table, functions found in .gopclntab.
go build -ldflags="-s -w" -o "$WORK/goclient-stripped" "$E2E_DIR/fixtures/gotls/client.go" \
  2> "$WORK/build.log" || { cat "$WORK/build.log"; fail "go build -ldflags=-s client.go"; }
nm "$WORK/goclient-stripped" 2>&1 | grep -q "no symbols" || fail "the stripped client still has symbols"

PORT=$(free_port)
https_site "$PORT" 1  # nginx for the Go client (A); the certificate serves the Go server too

check() {  # FILE LABEL EXPECTED COMM ROLE LOG
  check_tls_exchanges "$@"
  grep -q "lost: 0 events" "$6" || { cat "$6"; fail "$2: events were lost"; }
  grep -Eq "by Go's net.Conn [1-9][0-9]*; untied 0 " "$6" \
    || { cat "$6"; fail "$2: Go TLS calls not tied to their socket"; }
  return 0
}

# A: a Go client (HTTP/1.1 over one kept-alive connection) against nginx.
nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
STARTED_PIDS+=($!)
wait_port "$PORT"
"$REEL" trace --format json -o "$WORK/a.json" -- "$WORK/goclient" "$WORK/cert.pem" \
  "https://127.0.0.1:$PORT" "go says hello" /small.txt /big.bin /missing > "$WORK/a.out" 2> "$WORK/a.log" \
  || { cat "$WORK/a.log" "$WORK/a.out"; fail "reel trace goclient failed"; }
grep -q "uprobes on $WORK/goclient" "$WORK/a.log" || { cat "$WORK/a.log"; fail "no probes in the Go executable"; }
check "$WORK/a.json" "Go client" "GET /small.txt 200 11 True
GET /big.bin 200 300000 True
GET /missing 404 153 True
POST /echo 201 7 True" goclient client "$WORK/a.log"
[[ $(summarize_json "$WORK/a.json" request.body.text | tail -1) == "go says hello" ]] \
  || { tail -1 "$WORK/a.json"; fail "Go client: the POST body is not the plaintext sent"; }
pass "Go client (net/http, crypto/tls in the executable): 4 plaintext exchanges exact, 300 kB body whole"

# A2: the same with Read's plaintext taken at its RETs (the fallback for a Read without the one
# runtime.memmove call): single-stepped probes, same exchanges.
REEL_GO_TLS_RET_PROBES=1 "$REEL" trace --format json -o "$WORK/a2.json" -- "$WORK/goclient" \
  "$WORK/cert.pem" "https://127.0.0.1:$PORT" "go says hello" /small.txt /big.bin /missing \
  > "$WORK/a2.out" 2> "$WORK/a2.log" || { cat "$WORK/a2.log"; fail "reel trace goclient (RET probes) failed"; }
grep -q "single-step" "$WORK/a2.log" || { cat "$WORK/a2.log"; fail "the RET probes were not used"; }
grep -q "single-step" "$WORK/a.log" && { cat "$WORK/a.log"; fail "the default plan single-steps"; }
check "$WORK/a2.json" "Go client, RET probes" "$(summarize_json "$WORK/a.json" method target status response.body.size tls)" \
  goclient client "$WORK/a2.log"
pass "Go client with Read probed at its RETs (fallback): the same 4 exchanges"

# A3: the stripped client.
"$REEL" trace --format json -o "$WORK/a3.json" -- "$WORK/goclient-stripped" "$WORK/cert.pem" \
  "https://127.0.0.1:$PORT" "go says hello" /small.txt /big.bin /missing > "$WORK/a3.out" 2> "$WORK/a3.log" \
  || { cat "$WORK/a3.log"; fail "reel trace goclient-stripped failed"; }
grep -q "uprobes on $WORK/goclient-stripped" "$WORK/a3.log" || { cat "$WORK/a3.log"; fail "no probes in the stripped executable"; }
check "$WORK/a3.json" "stripped Go client" "$(summarize_json "$WORK/a.json" method target status response.body.size tls)" \
  goclient-stripp client "$WORK/a3.log"  # comm: 15 characters
pass "stripped Go client (-ldflags='-s -w', functions from .gopclntab): the same 4 exchanges"

# B: a Go server started by reel, driven by curl.
"$REEL" trace --format json -o "$WORK/b.json" -- "$WORK/goserver" "$WORK/cert.pem" "$WORK/key.pem" \
  "$WORK/port" 2> "$WORK/b.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
deadline=$((SECONDS + 20))
until [[ -s $WORK/port ]]; do
  ((SECONDS < deadline)) || { cat "$WORK/b.log"; fail "the Go server did not start"; }
  sleep 0.05
done
URL=https://127.0.0.1:$(cat "$WORK/port")
wait_port "$(cat "$WORK/port")"
body=$(curl -sf --http1.1 --cacert "$WORK/cert.pem" "$URL/hello" "$URL/hello") || fail "curl GET /hello"
[[ $body == $'hello from go\nhello from go' ]] || fail "the Go server answered '$body'"
curl -s --http1.1 --cacert "$WORK/cert.pem" -o /dev/null "$URL/nope"
curl -sf --http1.1 --cacert "$WORK/cert.pem" -o /dev/null --data-binary "ping over tls" "$URL/echo" \
  || fail "curl POST /echo"
sleep 0.3  # let the last responses reach the ring buffer before asking reel to stop
kill -INT "$REEL_PID"
wait "$REEL_PID" || true
check "$WORK/b.json" "Go server" "GET /hello 200 14 True
GET /hello 200 14 True
GET /nope 404 19 True
POST /echo 201 13 True" goserver server "$WORK/b.log"
pass "Go server (net/http) started by reel: 4 plaintext exchanges exact, from the server side"

# C: `reel record` turns the Go server's HTTPS traffic into test cases; `reel test` replays them
# against a fresh start of the server, over TLS.
GOPORT=$(free_port)
"$REEL" record -p "$WORK/rec" -- "$WORK/goserver" "$WORK/cert.pem" "$WORK/key.pem" "$WORK/port2" "$GOPORT" \
  > "$WORK/rec.out" 2> "$WORK/rec.err" &
RPID=$!
STARTED_PIDS+=($RPID)
wait_port "$GOPORT"
URL=https://127.0.0.1:$GOPORT
curl -sf --http1.1 --cacert "$WORK/cert.pem" -o /dev/null "$URL/hello" || fail "curl GET /hello (record)"
curl -sf --http1.1 --cacert "$WORK/cert.pem" -o /dev/null --data-binary "recorded over tls" "$URL/echo" \
  || fail "curl POST /echo (record)"
sleep 0.3
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec.err"; fail "reel record exited non-zero"; }
grep -q "recorded .*test-set-0: 2 tests" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "expected 2 tests"; }
grep -Eq "by Go's net.Conn [1-9][0-9]*; untied 0 " "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "record: Go TLS calls untied"; }
/usr/bin/python3 - "$WORK/rec/test-set-0" "$GOPORT" <<'PY' || fail "recorded test cases"
import glob, os, sys, yaml
root, port = sys.argv[1], sys.argv[2]
specs = sorted((yaml.safe_load(open(f))["spec"] for f in glob.glob(os.path.join(root, "tests", "*.yaml"))),
               key=lambda s: s["req"]["method"])
got = [(s["req"]["method"], s["req"]["url"], s["req"]["body"], s["resp"]["status_code"], s["resp"]["body"])
       for s in specs]
want = [("GET", f"https://127.0.0.1:{port}/hello", "", 200, "hello from go\n"),
        ("POST", f"https://127.0.0.1:{port}/echo", "recorded over tls", 201, "recorded over tls")]
assert got == want, got
PY
"$REEL" test -p "$WORK/rec" -- "$WORK/goserver" "$WORK/cert.pem" "$WORK/key.pem" "$WORK/port3" "$GOPORT" \
  > "$WORK/test.out" 2> "$WORK/test.err" || { cat "$WORK/test.out" "$WORK/test.err"; fail "reel test failed"; }
grep -q "PASSED: 2 passed, 0 failed" "$WORK/test.err" || { cat "$WORK/test.out" "$WORK/test.err"; fail "replay: expected 2 passed"; }
pass "Go HTTPS server: reel record wrote 2 https:// test cases with their plaintext; reel test replays both, passed"

echo "$CHECKS passed, 0 failed"
