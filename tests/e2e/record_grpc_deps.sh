#!/usr/bin/env bash
# An HTTP service whose handlers call gRPC dependencies and an HTTPS one, recorded and replayed
# with every dependency stopped. The service is Go (net/http, Go's gRPC client with a raw codec);
# its dependencies are python grpcio serving demo.Greeter over h2c and over TLS, and Go's
# net/http over TLS, which negotiates HTTP/2 by ALPN. Unary, server-streaming and error calls.
source "$(dirname "$0")/lib.sh"
D=$E2E_DIR/grpc_deps
/usr/bin/python3 -c 'import grpc' 2>/dev/null || fail "python3-grpcio is not installed (scripts/setup)"
[[ -d /usr/share/gocode/src/google.golang.org/grpc ]] || fail "golang-google-grpc-dev is not installed (scripts/setup)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$WORK/up.key" -out "$WORK/up.crt" \
  2> "$WORK/openssl.log" || { cat "$WORK/openssl.log"; fail "openssl req"; }
for prog in app rates; do
  (cd "$D" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/go-cache" go build -o "$WORK/$prog" "$prog.go") \
    > "$WORK/go-$prog.log" 2>&1 || { cat "$WORK/go-$prog.log"; fail "go build $prog"; }
done

H2C=$(free_port); TLSP=$(free_port); RATES=$(free_port); APP=$(free_port)
start_deps() {
  /usr/bin/python3 "$D/dep.py" "$H2C" "$TLSP" "$WORK/up.crt" "$WORK/up.key" > "$WORK/dep.log" 2>&1 &
  DEP_PID=$!
  STARTED_PIDS+=($DEP_PID)
  "$WORK/rates" -listen "127.0.0.1:$RATES" -cert "$WORK/up.crt" -key "$WORK/up.key" > "$WORK/rates.log" 2>&1 &
  RATES_PID=$!
  STARTED_PIDS+=($RATES_PID)
  wait_port "$H2C"; wait_port "$TLSP"; wait_port "$RATES"
}
stop_deps() {
  kill "$DEP_PID" "$RATES_PID"
  wait "$DEP_PID" "$RATES_PID" 2>/dev/null || true
  for p in $H2C $TLSP $RATES; do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && fail "a dependency still listens on $p"
  done
  return 0
}
APP_CMD=("$WORK/app" -listen "127.0.0.1:$APP" -grpc "127.0.0.1:$H2C" -grpcs "127.0.0.1:$TLSP"
         -rates "https://127.0.0.1:$RATES")
CALLS=("/hello?name=alice" "/secure?name=bob" "/count?n=3" "/user?id=7" "/user?id=9" "/rates?base=USD")
drive() {
  for c in "${CALLS[@]}"; do curl -sS --max-time 10 "http://127.0.0.1:$APP$c"; done
}

start_deps
# The service alone, trusting the dependency's certificate itself: what replay must reproduce.
SSL_CERT_FILE="$WORK/up.crt" "${APP_CMD[@]}" > "$WORK/app.log" 2>&1 &
LIVE=$!
STARTED_PIDS+=($LIVE)
wait_port "$APP"
drive > "$WORK/live.out"
kill "$LIVE"; wait "$LIVE" 2>/dev/null || true
grep -q '"proto":"HTTP/2.0"' "$WORK/live.out" || { cat "$WORK/live.out"; fail "the HTTPS dependency did not negotiate HTTP/2"; }
grep -q '"code":"NotFound","message":"no user 9"' "$WORK/live.out" || { cat "$WORK/live.out"; fail "live: the error call"; }
pass "live: 6 calls through Go's gRPC (h2c, TLS, streaming, an error) and HTTP/2 over TLS"

"$REEL" record -p "$WORK/rec" --app-port "$APP" --upstream-ca "$WORK/up.crt" -- "${APP_CMD[@]}" \
  > "$WORK/rec.out" 2> "$WORK/rec.err" &
REC_PID=$!
STARTED_PIDS+=($REC_PID)
deadline=$((SECONDS + 30))
until (exec 3<>"/dev/tcp/127.0.0.1/$APP") 2>/dev/null; do
  ((SECONDS < deadline)) || { cat "$WORK/rec.err"; fail "the service did not start under reel record"; }
  sleep 0.1
done
drive > "$WORK/recorded.out"
kill -INT "$REC_PID"
wait "$REC_PID" || { cat "$WORK/rec.err"; fail "reel record failed"; }
cmp -s "$WORK/live.out" "$WORK/recorded.out" \
  || { diff "$WORK/live.out" "$WORK/recorded.out"; cat "$WORK/rec.err"; fail "the service answered differently under reel record"; }
grep -q 'recorded .*: 6 tests' "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "expected 6 tests"; }
grep -Eq '^self-check: [1-9][0-9]* calls replayed to themselves, .*; 0 problems$' "$WORK/rec.err" \
  || { cat "$WORK/rec.err"; fail "the recording's self-check"; }
MOCKS=$WORK/rec/test-set-0/mocks.yaml
[[ $(grep -c '^kind: gRPC$' "$MOCKS") -eq 5 ]] || { grep '^kind:' "$MOCKS" | sort | uniq -c; fail "expected 5 gRPC mocks"; }
grep -q '1: {"Hello, bob!"}' "$MOCKS" || { cat "$MOCKS"; fail "the TLS call's answer is not in the mocks, decoded"; }
grep -q '/demo.Greeter/Count' "$MOCKS" && grep -q 'item-3' "$MOCKS" || fail "the server-streaming call's messages"
grep -q 'proto_major: 2' "$MOCKS" || { grep -A30 '^kind: Http' "$MOCKS"; fail "the HTTPS dependency was not recorded as HTTP/2"; }
pass "record: 5 gRPC mocks (h2c and TLS, every streamed message) and an HTTP/2 mock; self-check clean"

stop_deps
"$REEL" test -p "$WORK/rec" -- "${APP_CMD[@]}" > "$WORK/test.out" 2> "$WORK/test.err" \
  || { cat "$WORK/test.out" "$WORK/test.err"; fail "reel test failed with every dependency stopped"; }
grep -Eq '6 passed' "$WORK/test.out" "$WORK/test.err" || { cat "$WORK/test.out" "$WORK/test.err"; fail "6 tests must pass"; }
grep -Eq '(^| )0 unmatched' "$WORK/test.out" "$WORK/test.err" || { cat "$WORK/test.out" "$WORK/test.err"; fail "unmatched calls in replay"; }
pass "reel test: 6 passed, 0 unmatched, no dependency running"

# A recorded answer changed on disk shows in the service's answer, and fails its test.
cp -r "$WORK/rec" "$WORK/rec-changed"
sed -i 's/Ada Lovelace/Ada Byron K/' "$WORK/rec-changed/test-set-0/mocks.yaml"
set +e
"$REEL" test -p "$WORK/rec-changed" -- "${APP_CMD[@]}" > "$WORK/changed.out" 2> "$WORK/changed.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/changed.out" "$WORK/changed.err"; fail "a changed gRPC answer must fail a test (exit $code)"; }
grep -q 'Ada Byron K' "$WORK/changed.out" "$WORK/changed.err" || { cat "$WORK/changed.out"; fail "the diff does not show the changed name"; }
grep -Eq '5 passed.*1 failed|1 failed.*5 passed' "$WORK/changed.out" "$WORK/changed.err" || { cat "$WORK/changed.out" "$WORK/changed.err"; fail "exactly one test must fail"; }
pass "a gRPC answer changed in mocks.yaml fails exactly its test, with the new value in the diff"

# A method nothing recorded: the client gets UNIMPLEMENTED naming it, and it is listed.
cp -r "$WORK/rec" "$WORK/rec-renamed"
sed -i 's|/demo.Greeter/SayHello|/demo.Greeter/SayHallo|' "$WORK/rec-renamed/test-set-0/mocks.yaml"
set +e
"$REEL" test -p "$WORK/rec-renamed" -- "${APP_CMD[@]}" > "$WORK/renamed.out" 2> "$WORK/renamed.err"
set -e
cat "$WORK/renamed.out" "$WORK/renamed.err" > "$WORK/renamed.all"
grep -q 'had no recorded answer: grpc /demo.Greeter/SayHello (closest: .*another method of the service)' "$WORK/renamed.all" \
  || { cat "$WORK/renamed.all"; fail "the unmatched gRPC call is not listed"; }
grep -q '"reel: no recorded gRPC call for /demo.Greeter/SayHello"' "$WORK/renamed.all" \
  || { cat "$WORK/renamed.all"; fail "the app did not get grpc-status 12 naming the method"; }
grep -q '4 passed, 2 failed' "$WORK/renamed.all" || { cat "$WORK/renamed.all"; fail "exactly the two SayHello tests must fail"; }
pass "an unrecorded gRPC method: UNIMPLEMENTED naming it reaches the app, and the call is listed"
echo "record_grpc_deps: $CHECKS checks passed"
