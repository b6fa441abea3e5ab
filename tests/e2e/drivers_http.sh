#!/usr/bin/env bash
# The HTTP(S) row of the driver matrix: eight real HTTP clients of five runtimes call a loopback HTTPS
# API (python http.server + ssl, a self-signed certificate for 127.0.0.1): curl, python requests,
# httpx and aiohttp, Node's fetch and the undici package, Go net/http and Java 17's HttpClient.
# Each runs one scenario (GET JSON, POST JSON echo, a 404, a response header; sources in
# drivers/http/) and prints what it got. Each client
#   - first runs alone, trusting the API's certificate the way its runtime takes a CA;
#   - is recorded with `reel record` (reel checks the API with --upstream-ca), trusting reel's CA
#     only through what reel sets: SSL_CERT_FILE & co., JAVA_TOOL_OPTIONS for the JVM;
#   - with the API stopped, replays from the mocks with `reel mock`: same stdout, exit code 0,
#     0 unmatched; one more request the recording never saw gets reel's 502 and is listed.
# Also: an app run with --user nobody reads reel's trust files, a user's JAVA_TOOL_OPTIONS is
# kept, and a JVM told to trust another store is named, with what to do, in reel's warning.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"
export REEL_CA_DIR=$WORK/reel-ca  # not the machine's CA: the test makes its own
CLIENTS=$E2E_DIR/drivers/http
PY=/usr/bin/python3  # Debian's python, with python3-requests, -httpx, -aiohttp
export NODE_PATH=$E2E_DIR/drivers/node/node_modules

for tool in curl node go java keytool openssl; do
  command -v "$tool" > /dev/null || fail "$tool is not installed (scripts/setup installs it)"
done
"$PY" -c 'import requests, httpx, aiohttp, yaml' || fail "$PY lacks requests, httpx, aiohttp or yaml (scripts/setup installs them)"
[[ -d $NODE_PATH/undici ]] || fail "undici is not in $NODE_PATH (scripts/setup runs npm ci in tests/e2e/drivers/node)"
GO111MODULE=off GOFLAGS= go build -o "$WORK/go-client" "$CLIENTS/client_go.go" 2> "$WORK/go-build.log" \
  || { cat "$WORK/go-build.log"; fail "building the Go client"; }

# The API, with its own self-signed certificate, and a Java trust store of it for the alone runs.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=api.reel.test" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/api.key" -out "$WORK/api.crt" 2> "$WORK/openssl.log" \
  || { cat "$WORK/openssl.log"; fail "openssl req"; }
keytool -importcert -noprompt -alias api -file "$WORK/api.crt" -keystore "$WORK/api.p12" -storetype PKCS12 \
  -storepass api-store > "$WORK/keytool.log" 2>&1 || { cat "$WORK/keytool.log"; fail "keytool -importcert"; }
"$PY" "$CLIENTS/api_server.py" "$WORK/api.crt" "$WORK/api.key" "$WORK/api.port" 2> "$WORK/api.log" &
API_PID=$!
STARTED_PIDS+=($API_PID)
deadline=$((SECONDS + 10))
until [[ -s $WORK/api.port ]]; do ((SECONDS < deadline)) || { cat "$WORK/api.log"; fail "the API did not start"; }; sleep 0.05; done
PORT=$(cat "$WORK/api.port")
BASE=https://127.0.0.1:$PORT

EXPECTED='GET /items/42 200 {"id": 42, "name": "widget", "tags": ["a", "b"]}
POST /echo 200 {"echo": {"n": 7, "word": "hello"}}
GET /missing 404 {"error": "not found"}
GET /headers 200 ok x-reel-trace=abc123'

NAMES=(curl requests httpx aiohttp fetch undici go java)
declare -A CMD TRUST
CMD[curl]="bash $CLIENTS/client_curl.sh"
TRUST[curl]="CURL_CA_BUNDLE=$WORK/api.crt"
CMD[requests]="$PY $CLIENTS/client_requests.py"
TRUST[requests]="REQUESTS_CA_BUNDLE=$WORK/api.crt"
CMD[httpx]="$PY $CLIENTS/client_httpx.py"
TRUST[httpx]="SSL_CERT_FILE=$WORK/api.crt"
CMD[aiohttp]="$PY $CLIENTS/client_aiohttp.py"
TRUST[aiohttp]="SSL_CERT_FILE=$WORK/api.crt"
CMD[fetch]="node $CLIENTS/client_fetch.js"
TRUST[fetch]="NODE_EXTRA_CA_CERTS=$WORK/api.crt"
CMD[undici]="node $CLIENTS/client_undici.js"
TRUST[undici]="NODE_EXTRA_CA_CERTS=$WORK/api.crt"
CMD[go]="$WORK/go-client"
TRUST[go]="SSL_CERT_FILE=$WORK/api.crt"
CMD[java]="java $CLIENTS/Client.java"
TRUST[java]="JAVA_TOOL_OPTIONS=-Djavax.net.ssl.trustStore=$WORK/api.p12 -Djavax.net.ssl.trustStorePassword=api-store"

# check_mocks NAME: the recording holds the scenario's four calls as plaintext HTTPS Http mocks.
check_mocks() {
  "$PY" - "$WORK/rec-$1/test-set-0/mocks.yaml" "$PORT" <<'PY' || fail "$1: recorded mocks"
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
assert all(m["kind"] == "Http" for m in mocks), [m["kind"] for m in mocks]
got = sorted((m["spec"]["req"]["method"], m["spec"]["req"]["url"], m["spec"]["resp"]["status_code"]) for m in mocks)
base = "https://127.0.0.1:" + sys.argv[2]
want = sorted([("GET", base + "/items/42", 200), ("POST", base + "/echo", 200),
               ("GET", base + "/missing", 404), ("GET", base + "/headers", 200)])
assert got == want, got
assert all(m["spec"]["metadata"]["reel.tls"] == "true" for m in mocks)
PY
}

# 1. Alone, then recorded, with the API up.
RECORD_ARGS=(--upstream-ca "$WORK/api.crt")
for n in "${NAMES[@]}"; do
  # shellcheck disable=SC2086  # CMD holds a command line of paths without spaces
  env "${TRUST[$n]}" ${CMD[$n]} "$BASE" > "$WORK/$n.alone.out" 2> "$WORK/$n.alone.err" \
    || { cat "$WORK/$n.alone.err"; fail "$n alone (trusting the API through ${TRUST[$n]%%=*}) failed"; }
  [[ $(cat "$WORK/$n.alone.out") == "$EXPECTED" ]] \
    || { diff <(echo "$EXPECTED") "$WORK/$n.alone.out"; fail "$n alone: unexpected output"; }
  # shellcheck disable=SC2086
  record_only "$n" 0 ${CMD[$n]} "$BASE"
  [[ $(cat "$WORK/$n.rec.out") == "$EXPECTED" ]] \
    || { diff <(echo "$EXPECTED") "$WORK/$n.rec.out"; cat "$WORK/$n.rec.err"; fail "$n under reel record: unexpected output"; }
  grep -q "refused reel's certificate" "$WORK/$n.rec.err" && { cat "$WORK/$n.rec.err"; fail "$n refused reel's certificate"; }
  check_mocks "$n"
  pass "$n: alone (${TRUST[$n]%%=*}) and under reel record (reel's CA) print the same; 4 HTTPS mocks"
done

# 2. --user nobody: the app reads every trust file reel points it at, and records through them.
cat > "$WORK/as-nobody.sh" <<'SH'
#!/bin/sh
# Prints which of reel's trust files this user cannot read, then runs the client.
store=${JAVA_TOOL_OPTIONS#*trustStore=}
store=${store%% *}
for f in "$SSL_CERT_FILE" "$REQUESTS_CA_BUNDLE" "$CURL_CA_BUNDLE" "$NODE_EXTRA_CA_CERTS" "$store" "$SSL_CERT_DIR"/*; do
  head -c 1 "$f" > /dev/null || echo "unreadable: $f"
done
[ "$(id -un)" = nobody ] || echo "not nobody: $(id -un)"
exec "$@"
SH
chmod 755 "$WORK/as-nobody.sh"
RECORD_ARGS=(--upstream-ca "$WORK/api.crt" --user nobody)
record_only nobody 0 "$WORK/as-nobody.sh" $PY "$CLIENTS/client_requests.py" "$BASE"
[[ $(cat "$WORK/nobody.rec.out") == "$EXPECTED" ]] \
  || { cat "$WORK/nobody.rec.out" "$WORK/nobody.rec.err"; fail "requests as nobody under reel record"; }
pass "--user nobody: bundle, certs dir and trust store readable; python requests recorded"

# 3. A JVM given its own trust store (the user's JAVA_TOOL_OPTIONS) keeps it, refuses reel's
#    certificate, and reel's warning says which program it was and what to do.
RECORD_ARGS=(--upstream-ca "$WORK/api.crt")
set +e
JAVA_TOOL_OPTIONS="${TRUST[java]#*=}" "$REEL" record -p "$WORK/rec-java-own" "${RECORD_ARGS[@]}" -- \
  ${CMD[java]} "$BASE" > "$WORK/java-own.rec.out" 2> "$WORK/java-own.rec.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/java-own.rec.err"; fail "java with its own trust store: exit $code, want 1 (refused)"; }
for want in "JAVA_TOOL_OPTIONS already names a trust store" "the app refused reel's certificate for 127.0.0.1" \
  "is a JVM (pid" "keytool -importcert -file $WORK/reel-ca-trust/ca.crt"; do
  grep -qF "$want" "$WORK/java-own.rec.err" || { cat "$WORK/java-own.rec.err"; fail "java with its own trust store: no '$want'"; }
done
pass "a JVM with its own trust store: kept, refuses reel's certificate, the warning names the JVM and keytool"

# 4. The API goes away; every client replays from its mocks.
stop_server "$API_PID" "$PORT" "the API"
for n in "${NAMES[@]}"; do
  # The JVM is started with a JAVA_TOOL_OPTIONS of the user's: reel adds its trust store to it.
  jto=
  [[ $n == java ]] && jto=-Xss4m
  # shellcheck disable=SC2086
  JAVA_TOOL_OPTIONS=$jto mock_only "$n" 0 ${CMD[$n]} "$BASE"
  same_stdout "$n"
  set +e
  # shellcheck disable=SC2086
  JAVA_TOOL_OPTIONS=$jto timeout 120 "$REEL" mock -p "$WORK/rec-$n" -- ${CMD[$n]} "$BASE" /never-recorded \
    > "$WORK/$n-changed.mock.out" 2> "$WORK/$n-changed.mock.err"
  code=$?
  set -e
  [[ $code -eq 0 ]] || { cat "$WORK/$n-changed.mock.err"; fail "$n with a changed request: exit $code"; }
  [[ $(cat "$WORK/$n-changed.mock.out") == "$EXPECTED"$'\nGET /never-recorded 502' ]] \
    || { cat "$WORK/$n-changed.mock.out" "$WORK/$n-changed.mock.err"; fail "$n: the changed request did not get reel's 502"; }
  expect_unmatched "$n-changed" "Http 127.0.0.1:$PORT GET /never-recorded"
  grep -q " 1 unmatched" "$WORK/$n-changed.mock.err" || { cat "$WORK/$n-changed.mock.err"; fail "$n: not exactly 1 unmatched"; }
  if [[ $n == java ]]; then
    grep -q "Picked up JAVA_TOOL_OPTIONS: -Xss4m -Djavax.net.ssl.trustStore=$WORK/reel-ca-trust/truststore.p12 " \
      "$WORK/$n.mock.err" || { cat "$WORK/$n.mock.err"; fail "java: the user's JAVA_TOOL_OPTIONS not kept"; }
  fi
  pass "$n: API stopped, reel mock prints the same, 0 unmatched; /never-recorded gets 502 and is listed"
done

# A changed answer shows: a value changed in the recording is what each client prints.
for n in "${NAMES[@]}"; do
  # shellcheck disable=SC2086
  changed_answer_shows "$n" widget gadget ${CMD[$n]} "$BASE"
done
pass "a changed recorded answer (widget -> gadget) shows in all 8 clients' output, and nothing else changes"

# reel mock too: a client that trusts only the API's own certificate refuses reel's, and the
# warning names the program and what to do.
set +e
timeout 60 "$REEL" mock -p "$WORK/rec-curl" -- curl -sS --cacert "$WORK/api.crt" "$BASE/items/42" \
  > "$WORK/curl-pinned.mock.out" 2> "$WORK/curl-pinned.mock.err"
code=$?
set -e
[[ $code -ne 0 ]] || { cat "$WORK/curl-pinned.mock.out"; fail "curl --cacert API cert accepted reel's mock certificate"; }
for want in "mock tls: the app refused reel's certificate for 127.0.0.1" "/usr/bin/curl is curl (pid" \
  "use --cacert $WORK/reel-ca-trust/bundle.pem"; do
  grep -qF "$want" "$WORK/curl-pinned.mock.err" || { cat "$WORK/curl-pinned.mock.err"; fail "curl --cacert under reel mock: no '$want'"; }
done
pass "reel mock: curl with its own --cacert refuses reel's certificate; the warning names curl and the fix"

# 5. --user nobody under reel mock.
set +e
timeout 120 "$REEL" mock -p "$WORK/rec-nobody" --user nobody -- "$WORK/as-nobody.sh" $PY "$CLIENTS/client_requests.py" "$BASE" \
  > "$WORK/nobody.mock.out" 2> "$WORK/nobody.mock.err"
code=$?
set -e
[[ $code -eq 0 ]] || { cat "$WORK/nobody.mock.err"; fail "reel mock --user nobody exited $code"; }
same_stdout nobody
grep -q " 0 unmatched" "$WORK/nobody.mock.err" || { cat "$WORK/nobody.mock.err"; fail "nobody: unmatched calls"; }
pass "--user nobody under reel mock: the trust files are readable, same stdout, 0 unmatched"

echo "$CHECKS passed, 0 failed"
