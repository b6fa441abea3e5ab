#!/usr/bin/env bash
# gRPC test sets written by hand in Keploy's own format (kind gRPC, grpcReq/grpcResp, protoscope
# decoded_data, newer Keploy's additional_messages, no reel metadata), replayed by `reel test`:
#  - test-set-0: Http tests of the Go service of record_grpc_deps.sh, its gRPC dependency
#    answered from Keploy gRPC mocks (unary, a server stream, an error status), nothing running;
#  - test-set-1: gRPC tests sent to the python grpcio server itself.
source "$(dirname "$0")/lib.sh"
cp -r "$E2E_DIR/fixtures/keploy_grpc" "$WORK/keploy"  # reel test writes its reports beside the sets
FIX=$WORK/keploy
D=$E2E_DIR/grpc_deps
[[ -d /usr/share/gocode/src/google.golang.org/grpc ]] || fail "golang-google-grpc-dev is not installed (scripts/setup)"
(cd "$D" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/go-cache" go build -o "$WORK/app" app.go) \
  > "$WORK/go.log" 2>&1 || { cat "$WORK/go.log"; fail "go build app"; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$WORK/k.pem" -out "$WORK/c.pem" 2> /dev/null || fail "openssl req"

APP=$(free_port)
# Nothing listens at the dependencies' addresses: reel's mock server answers every call.
"$REEL" test -p "$FIX" --test-sets test-set-0 --app-port "$APP" -- "$WORK/app" -listen "127.0.0.1:$APP" \
  -grpc "127.0.0.1:$(free_port)" -grpcs "127.0.0.1:$(free_port)" -rates "https://127.0.0.1:$(free_port)" \
  > "$WORK/set0.out" 2> "$WORK/set0.err" || { cat "$WORK/set0.out" "$WORK/set0.err"; fail "reel test on Keploy gRPC mocks"; }
cat "$WORK/set0.out" "$WORK/set0.err" > "$WORK/set0.all"
grep -q 'test-set-0: 3 passed, 0 failed' "$WORK/set0.all" || { cat "$WORK/set0.all"; fail "3 tests must pass"; }
grep -q 'mocks: 3 exact, 0 structural, 0 unmatched' "$WORK/set0.all" || { cat "$WORK/set0.all"; fail "each Keploy gRPC mock must answer its test exactly"; }
pass "Keploy gRPC mocks (unary, additional_messages stream, NOT_FOUND) answer a Go gRPC client: 3 passed, 3 exact"

PORT=$(free_port)
"$REEL" test -p "$FIX" --test-sets test-set-1 --app-port "$PORT" -- \
  /usr/bin/python3 "$D/dep.py" "$PORT" "$(free_port)" "$WORK/c.pem" "$WORK/k.pem" \
  > "$WORK/set1.out" 2> "$WORK/set1.err" || { cat "$WORK/set1.out" "$WORK/set1.err"; fail "reel test on Keploy gRPC tests"; }
cat "$WORK/set1.out" "$WORK/set1.err" > "$WORK/set1.all"
grep -q 'test-set-1: 3 passed, 0 failed' "$WORK/set1.all" || { cat "$WORK/set1.all"; fail "3 gRPC tests must pass"; }
pass "Keploy gRPC tests sent to python grpcio: unary, a 3-message stream, NOT_FOUND: 3 passed"

# The same tests against a changed server: the diff names the message field.
sed 's/"Hello, "/"Hi, "/' "$D/dep.py" > "$WORK/dep_changed.py"
set +e
"$REEL" test -p "$FIX" --test-sets test-set-1 --app-port "$PORT" -- \
  /usr/bin/python3 "$WORK/dep_changed.py" "$PORT" "$(free_port)" "$WORK/c.pem" "$WORK/k.pem" \
  > "$WORK/changed.out" 2> "$WORK/changed.err"
code=$?
set -e
cat "$WORK/changed.out" "$WORK/changed.err" > "$WORK/changed.all"
[[ $code -eq 1 ]] || { cat "$WORK/changed.all"; fail "a changed answer must fail (exit $code)"; }
grep -q 'messages.0.1' "$WORK/changed.all" && grep -q 'Hi, ada!' "$WORK/changed.all" \
  || { cat "$WORK/changed.all"; fail "the diff does not name messages.0.1 with the new value"; }
grep -q 'test-set-1: 2 passed, 1 failed' "$WORK/changed.all" || { cat "$WORK/changed.all"; fail "exactly one test must fail"; }
pass "a changed server fails the Keploy gRPC test with messages.0.1 in the diff"
echo "keploy_grpc: $CHECKS checks passed"
