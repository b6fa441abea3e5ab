#!/usr/bin/env bash
# Passive recording of TLS dependencies, from the uprobes' plaintext, with no CA given to the
# app and nothing in its path:
#  1. the shop, calling its rates API over HTTPS (trusting only that API's own certificate), is
#     recorded with --pid; with every dependency stopped, `reel test` replays it green.
#  2. a client in its own mount namespace, whose libssl is a private copy at a path the host
#     does not have, on a keep-alive HTTPS connection opened before reel attached: reel finds
#     the library through /proc/PID/root and records its calls.
source "$(dirname "$0")/lib.sh"
SHOP=$E2E_DIR/../../examples/shop
DEPS=$WORK/deps
export REEL_CA_DIR=$WORK/reel-ca  # reel test's CA for the replay: not the machine's
stop_all() {
  "$SHOP/deps.sh" stop "$DEPS" >/dev/null 2>&1 || true
  cleanup
}
trap stop_all EXIT

https_rates rates
UPSTREAM=$RATES_TLS_PID RATES_PORT=$RATES_TLS_PORT

# --- 1. The shop with an HTTPS dependency, recorded with --pid.
"$SHOP/deps.sh" start "$DEPS" > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; fail "deps.sh start"; }
cp "$DEPS/env" "$WORK/deps.env"
source "$WORK/deps.env"
export RATES_URL=https://127.0.0.1:$RATES_PORT
BASE=http://127.0.0.1:$SHOP_PORT
SSL_CERT_FILE=$WORK/up.crt "$SHOP/app.py" > "$WORK/app.log" 2>&1 &
APP=$!
STARTED_PIDS+=($APP)
wait_port "$SHOP_PORT"
curl -sSf -o /dev/null "$BASE/products/1" || fail "warm-up"
"$REEL" record -p "$WORK/rec" --app-port "$SHOP_PORT" --pid "$APP" > /dev/null 2> "$WORK/rec.err" &
RP=$!
wait_log "$WORK/rec.err" "recording pid $APP"
"$SHOP/traffic.sh" "$BASE" > "$WORK/traffic.log" || { cat "$WORK/traffic.log" "$WORK/app.log"; fail "traffic"; }
sleep 0.3
kill -INT "$RP"; wait "$RP" || { cat "$WORK/rec.err"; fail "reel record --pid exited $?"; }
kill "$APP"; wait "$APP" 2>/dev/null || true
grep -q "test-set-0: 11 tests" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "not 11 tests"; }
grep -q "tls: .*SSL" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "no TLS probe summary"; }
/usr/bin/python3 - "$WORK/rec/test-set-0/mocks.yaml" "$RATES_PORT" <<'PY' || { cat "$WORK/rec.err"; fail "HTTPS mocks"; }
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
http = [m for m in mocks if m["kind"] == "Http"]
assert len(http) == 2, [m["kind"] for m in mocks]
assert not [m for m in mocks if m["kind"] == "Generic"], "ciphertext recorded as Generic"
for m in http:
    assert m["spec"]["metadata"]["reel.tls"] == "true", m["spec"]["metadata"]
    assert m["spec"]["req"]["url"].startswith("https://127.0.0.1:%s/rates/" % sys.argv[2]), m["spec"]["req"]["url"]
print("HTTPS mocks:", [m["spec"]["req"]["url"] for m in http])
PY
pass "record --pid: the shop's 2 HTTPS rate lookups recorded from the uprobes' plaintext (no CA given to the app)"

"$SHOP/deps.sh" stop "$DEPS" > /dev/null
kill "$UPSTREAM"; wait "$UPSTREAM" 2>/dev/null || true
if (exec 3<>"/dev/tcp/127.0.0.1/$RATES_PORT") 2>/dev/null; then fail "the HTTPS API still accepts"; fi
"$REEL" test -p "$WORK/rec" -- "$SHOP/app.py" > /dev/null 2> "$WORK/test.err" \
  || { tail -30 "$WORK/test.err"; fail "reel test failed"; }
grep -q "PASSED: 11 passed, 0 failed" "$WORK/test.err" && grep -q " 0 unmatched" "$WORK/test.err" \
  || { tail -30 "$WORK/test.err"; fail "not all passed"; }
pass "reel test: 11 passed over the passive HTTPS recording, every dependency stopped, 0 unmatched"

# --- 2. A client in its own mount namespace with a private libssl at a path the host lacks.
https_rates rates2
PORT2=$RATES_TLS_PORT
PRIVATE=/mnt/reel-private-ssl
[[ ! -e $PRIVATE ]] || fail "$PRIVATE exists on the host"
# Read from a file, not a pipe: `ldconfig -p` prints more than a pipe holds, and an awk leaving at
# its first match would end ldconfig with SIGPIPE, which pipefail turns into a silent exit.
ldconfig -p > "$WORK/ld.cache"
SSL_SO=$(awk '/libssl.so.3 .*x86-64/ {print $NF; exit}' "$WORK/ld.cache")
CRYPTO_SO=$(awk '/libcrypto.so.3 .*x86-64/ {print $NF; exit}' "$WORK/ld.cache")
[[ -n $SSL_SO && -n $CRYPTO_SO ]] || fail "no libssl.so.3 on this machine"
cat > "$WORK/client.py" <<'PY'
import http.client, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
conn = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=5)
currencies = ["EUR", "GBP", "CHF", "JPY"]
i = 0
while True:  # one keep-alive connection, opened before reel attaches
    conn.request("GET", "/rates/" + currencies[i % 4])
    conn.getresponse().read()
    i += 1
    time.sleep(0.05)
PY
# The namespace's /mnt is a tmpfs only it sees; the library is loaded from there.
unshare --mount --propagation private -- bash -c "
  mount -t tmpfs reel-test /mnt && mkdir $PRIVATE && cp '$SSL_SO' '$CRYPTO_SO' $PRIVATE/ &&
  LD_LIBRARY_PATH=$PRIVATE exec python3 '$WORK/client.py' $PORT2 '$WORK/up.crt'" 2> "$WORK/client.err" &
CLIENT=$!
STARTED_PIDS+=($CLIENT)
deadline=$((SECONDS + 10))
until grep -q "$PRIVATE/libssl.so.3" "/proc/$CLIENT/maps" 2>/dev/null; do
  ((SECONDS < deadline)) || { cat "$WORK/client.err"; fail "the client never loaded its private libssl"; }
  sleep 0.05
done
[[ ! -e $PRIVATE ]] || fail "$PRIVATE leaked to the host"
sleep 0.3
"$REEL" record -p "$WORK/ns" --pid "$CLIENT" --duration 2s > /dev/null 2> "$WORK/ns.err" \
  || { cat "$WORK/ns.err"; fail "reel record --pid (mount namespace) exited $?"; }
grep -q "/proc/$CLIENT/root$PRIVATE/libssl.so.3" "$WORK/ns.err" \
  || { cat "$WORK/ns.err"; fail "the private libssl was not probed through /proc/PID/root"; }
/usr/bin/python3 - "$WORK/ns/test-set-0/mocks.yaml" "$PORT2" <<'PY' || { cat "$WORK/ns.err"; fail "mocks from the namespaced client"; }
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
http = [m for m in mocks if m["kind"] == "Http"]
assert len(http) >= 10, (len(http), [m["kind"] for m in mocks])
assert not [m for m in mocks if m["kind"] == "Generic"], "ciphertext recorded as Generic"
for m in http:
    assert m["spec"]["metadata"]["reel.tls"] == "true"
    assert m["spec"]["req"]["url"].startswith("https://127.0.0.1:%s/rates/" % sys.argv[2]), m["spec"]["req"]["url"]
    assert m["spec"]["resp"]["status_code"] == 200
print(len(http), "HTTPS calls recorded from the namespaced client")
PY
kill -0 "$CLIENT" 2>/dev/null || fail "the client died"
pass "a client in its own mount namespace, private libssl at $PRIVATE: probed through /proc/PID/root, its keep-alive HTTPS calls recorded"

echo "record_passive_tls: $CHECKS checks passed"
