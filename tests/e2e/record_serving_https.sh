#!/usr/bin/env bash
# The shop served over HTTPS and calling its rates API over HTTPS: `reel record` takes the test
# cases from the plaintext OpenSSL hands the app (uprobes on the libssl python's ssl module loads),
# not from the ciphertext on the socket, and records the HTTPS API through its TLS interception;
# `reel test` replays the tests over TLS with every dependency stopped (no network at all), and a
# changed build fails with a diff.
source "$(dirname "$0")/lib.sh"
SHOP=$E2E_DIR/../../examples/shop
DEPS=$WORK/deps
trap '"$SHOP/deps.sh" stop "$DEPS" >/dev/null 2>&1 || true; cleanup' EXIT
export REEL_CA_DIR=$WORK/reel-ca

"$SHOP/deps.sh" start "$DEPS" > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; fail "deps.sh start"; }
source "$DEPS/env"

# The app's own certificate, made here; curl trusts exactly it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=shop.reel.test" \
  -addext "subjectAltName=DNS:shop.reel.test,IP:127.0.0.1" \
  -keyout "$WORK/shop.key" -out "$WORK/shop.crt" 2> "$WORK/openssl.log" || { cat "$WORK/openssl.log"; fail "openssl req"; }
export SHOP_TLS_CERT=$WORK/shop.crt SHOP_TLS_KEY=$WORK/shop.key
# The rates API over HTTPS too (same self-signed certificate, IP SAN; reel trusts it through
# --upstream-ca), in place of the plain one deps.sh started.
"$SHOP/rates_api.py" --port 0 --port-file "$WORK/rates.port" --tls "$WORK/shop.crt" "$WORK/shop.key" \
  2> "$WORK/rates.log" &
RATES_PID=$!
STARTED_PIDS+=($RATES_PID)
deadline=$((SECONDS + 10))
until [[ -s $WORK/rates.port ]]; do ((SECONDS < deadline)) || fail "rates API did not start"; sleep 0.05; done
export RATES_URL=https://127.0.0.1:$(cat "$WORK/rates.port")
export CURL_CA_BUNDLE=$WORK/shop.crt
BASE=https://127.0.0.1:$SHOP_PORT
REC=$WORK/rec

"$REEL" record -p "$REC" --app-port "$SHOP_PORT" --upstream-ca "$WORK/shop.crt" -- "$SHOP/app.py" > "$WORK/rec.out" 2> "$WORK/rec.err" &
RPID=$!
wait_port "$SHOP_PORT"
"$SHOP/traffic.sh" "$BASE" > "$WORK/traffic.log" || { cat "$WORK/traffic.log" "$WORK/rec.err"; fail "traffic.sh over HTTPS"; }
# A long request, and one from a second client library (python ssl).
curl -sSf -o /dev/null "$BASE/products?pad=$(head -c 3000 /dev/zero | tr '\0' x)" || fail "long URL"
/usr/bin/python3 - "$BASE" "$WORK/shop.crt" <<'PY' || fail "python client over HTTPS"
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
body = urllib.request.urlopen(sys.argv[1] + "/products/2", context=ctx, timeout=5).read()
assert b"French press" in body, body
PY
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec.err"; fail "reel record exited $?"; }
ntests=$(($(wc -l < "$WORK/traffic.log") + 2))
grep -q "recorded .*test-set-0: $ntests tests" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "expected $ntests tests"; }
grep -Eq "tls: [1-9][0-9]* SSL calls" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "no TLS probe summary"; }
grep -q "untied 0 " "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "SSL calls not tied to their socket"; }
pass "record: $ntests HTTPS requests (curl and python) recorded as tests"

/usr/bin/python3 - "$REC/test-set-0" "$SHOP_PORT" <<'PY' || fail "recorded test set content"
import glob, os, sys, yaml
root, port = sys.argv[1], sys.argv[2]
tests = [yaml.safe_load(open(f))["spec"] for f in glob.glob(os.path.join(root, "tests", "*.yaml"))]
for t in tests:
    assert t["req"]["url"].startswith("https://127.0.0.1:" + port + "/"), t["req"]["url"]
    assert t["resp"]["status_code"] in (200, 201, 404, 409), t["resp"]
one = [t for t in tests if t["req"]["url"].endswith("/products/1") and t["req"]["method"] == "GET"]
assert one and '"name": "Espresso cup"' in one[0]["resp"]["body"].replace('":"', '": "'), one
mocks = [m for m in yaml.safe_load_all(open(os.path.join(root, "mocks.yaml"))) if m]
kinds = {m["kind"] for m in mocks}
assert {"Http", "Postgres", "Redis"} <= kinds, kinds
assert "Generic" not in kinds, "something was recorded as opaque bytes"
rates = [m for m in mocks if m["kind"] == "Http"]
assert rates and all(m["spec"]["req"]["url"].startswith("https://127.0.0.1:") and
                     m["spec"]["metadata"]["reel.tls"] == "true" for m in rates), rates
print("content ok:", len(tests), "tests,", len(mocks), "mocks")
PY
pass "tests: https:// URLs, plaintext bodies; calls recorded as Postgres, Redis and HTTPS (reel.tls) Http mocks"

"$SHOP/deps.sh" stop "$DEPS" > /dev/null
kill "$RATES_PID"; wait "$RATES_PID" 2>/dev/null || true
for url in "${DATABASE_URL#*@}" "${REDIS_URL#redis://}" "${RATES_URL#https://}"; do
  hostport=${url%%/*}
  if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}") 2>/dev/null; then fail "$hostport still accepts"; fi
done

"$REEL" test -p "$REC" -- "$SHOP/app.py" > "$WORK/test1.out" 2> "$WORK/test1.err" \
  || { cat "$WORK/test1.err"; fail "reel test failed"; }
grep -q "PASSED: $ntests passed, 0 failed" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "not all passed"; }
grep -q " 0 unmatched" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "unmatched dependency calls"; }
pass "reel test: $ntests passed over HTTPS with every dependency stopped"

set +e
SHOP_VARIANT=changed "$REEL" test -p "$REC" -- "$SHOP/app.py" > /dev/null 2> "$WORK/test2.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/test2.err"; fail "changed build: exit $code, want 1"; }
grep -q "FAIL .*/products/1/price?currency=EUR" "$WORK/test2.err" || { cat "$WORK/test2.err"; fail "no FAIL line"; }
grep -q 'body.price (changed)' "$WORK/test2.err" || { cat "$WORK/test2.err"; fail "diff does not name body.price"; }
pass "changed build over HTTPS: exit 1, diff names body.price"

# The app serving HTTPS with a broken certificate setup: reel test says what went wrong.
SHOP_TLS_CERT=/dev/null SHOP_TLS_KEY=/dev/null "$REEL" test -p "$REC" --timeout 2 -- "$SHOP/app.py" \
  > /dev/null 2> "$WORK/test3.err" && fail "reel test passed against an app that cannot start"
grep -q "the app exited with code" "$WORK/test3.err" || { cat "$WORK/test3.err"; fail "app failure not reported"; }
pass "an app that cannot load its certificate: reel test reports its exit"
echo "record_serving_https: $CHECKS checks passed"
