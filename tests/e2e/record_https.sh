#!/usr/bin/env bash
# HTTPS dependencies: `reel record` terminates the app's TLS with a leaf of reel's CA (the app
# trusts it through SSL_CERT_FILE & co. set by reel), re-encrypts toward the real upstream
# (trusted with --upstream-ca) and records the plaintext as ordinary Http mocks; with the upstream
# stopped, `reel mock` answers the same client over TLS from those mocks. A client that refuses
# reel's certificate has its later connections to that name passed through, unrecorded.
source "$(dirname "$0")/lib.sh"
SHOP=$E2E_DIR/../../examples/shop
export REEL_CA_DIR=$WORK/reel-ca  # not the machine's CA: the test makes its own

# The upstream: the shop's rates API over HTTPS, with a self-signed certificate made here.
https_rates rates
UPSTREAM=$RATES_TLS_PID PORT=$RATES_TLS_PORT
curl -sSf --cacert "$WORK/up.crt" "https://127.0.0.1:$PORT/rates/USD" > /dev/null || fail "upstream not serving HTTPS"

# The app: python urllib by IP (no SNI: an IP SAN) and curl by name (SNI), each trusting only the
# default CA store, which reel points at its bundle.
cat > "$WORK/client.sh" <<SH
#!/usr/bin/env bash
set -e
python3 - <<'PY'
import urllib.request
print(urllib.request.urlopen("https://127.0.0.1:$PORT/rates/EUR", timeout=5).read().decode())
PY
curl -sSf --resolve rates.reel.test:$PORT:127.0.0.1 https://rates.reel.test:$PORT/rates/GBP
echo
SH
chmod +x "$WORK/client.sh"

REC=$WORK/rec
"$REEL" record -p "$REC" --upstream-ca "$WORK/up.crt" -- "$WORK/client.sh" > "$WORK/rec.out" 2> "$WORK/rec.err" \
  || { cat "$WORK/rec.out" "$WORK/rec.err"; fail "reel record exited $?"; }
grep -q '"currency": "EUR"' "$WORK/rec.out" && grep -q '"currency": "GBP"' "$WORK/rec.out" \
  || { cat "$WORK/rec.out" "$WORK/rec.err"; fail "the app did not get its answers through reel"; }
grep -q "tls: 2 connections intercepted" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "no interception summary"; }
pass "record: python urllib (IP, no SNI) and curl (SNI) reach the HTTPS upstream through reel"

[[ $(stat -c %a "$REEL_CA_DIR") == 700 && $(stat -c %a "$REEL_CA_DIR/ca.key") == 600 ]] \
  || fail "CA directory/key modes: $(stat -c '%n %a' "$REEL_CA_DIR" "$REEL_CA_DIR/ca.key")"
grep -q "created reel's local CA" "$WORK/rec.err" || fail "no log line for the new CA"
[[ $("$REEL" ca path) == "$REEL_CA_DIR/ca.crt" ]] || fail "reel ca path: $("$REEL" ca path)"
pass "CA: made once in REEL_CA_DIR (0700, key 0600), reel ca path names it"

python3 - "$REC/test-set-0/mocks.yaml" <<'PY' || fail "recorded mocks"
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
http = [m for m in mocks if m["kind"] == "Http"]
assert len(http) == 2, [m["kind"] for m in mocks]
assert not [m for m in mocks if m["kind"] == "Generic"], "ciphertext recorded as Generic"
for m in http:
    assert m["spec"]["metadata"]["reel.tls"] == "true", m["spec"]["metadata"]
    assert m["spec"]["req"]["url"].startswith("https://"), m["spec"]["req"]["url"]
    assert "rates/" in m["spec"]["req"]["url"]
    assert '"currency"' in m["spec"]["resp"]["body"]
PY
pass "mocks: 2 plaintext Http mocks, https:// URLs, reel.tls true, no ciphertext"

# Replay with the upstream gone: the same client gets the same answers from reel's mock server.
kill "$UPSTREAM"; wait "$UPSTREAM" 2>/dev/null || true
curl -s --max-time 2 --cacert "$WORK/up.crt" "https://127.0.0.1:$PORT/rates/USD" > /dev/null && fail "upstream still up"
"$REEL" mock -p "$REC" -- "$WORK/client.sh" > "$WORK/mock.out" 2> "$WORK/mock.err" \
  || { cat "$WORK/mock.out" "$WORK/mock.err"; fail "reel mock exited $?"; }
diff "$WORK/rec.out" "$WORK/mock.out" || { cat "$WORK/mock.err"; fail "replayed answers differ"; }
pass "mock: upstream stopped, the same HTTPS client prints the same answers"

# A client that trusts only the upstream's own certificate (as a pinning app would) refuses
# reel's; later connections to that name pass through untouched and unrecorded.
python3 "$SHOP/rates_api.py" --port "$PORT" --tls "$WORK/up.crt" "$WORK/up.key" 2> "$WORK/rates2.log" &
STARTED_PIDS+=($!)
wait_port "$PORT"
cat > "$WORK/pinned.sh" <<SH
#!/usr/bin/env bash
pin() { curl -sS --cacert "$WORK/up.crt" --resolve pinned.reel.test:$PORT:127.0.0.1 https://pinned.reel.test:$PORT/rates/\$1; echo; }
pin CHF || echo "first: refused"
# reel learns of the refusal when it reads the client's alert: wait for that, not for luck.
for _ in \$(seq 200); do grep -q "refused reel's certificate" "$WORK/pin.err" && break; sleep 0.05; done
pin JPY
SH
chmod +x "$WORK/pinned.sh"
REC2=$WORK/rec2
"$REEL" record -p "$REC2" --upstream-ca "$WORK/up.crt" -- "$WORK/pinned.sh" > "$WORK/pin.out" 2> "$WORK/pin.err" \
  || { cat "$WORK/pin.out" "$WORK/pin.err"; fail "reel record (pinned) exited $?"; }
grep -q '"currency": "JPY"' "$WORK/pin.out" || { cat "$WORK/pin.out" "$WORK/pin.err"; fail "passthrough did not reach the upstream"; }
grep -q "passed through: 1 TLS connections (client rejected reel's CA: pinned.reel.test)" "$WORK/pin.err" \
  || { cat "$WORK/pin.err"; fail "passthrough not in the summary"; }
if [[ -s $REC2/test-set-0/mocks.yaml ]] && grep -q "kind:" "$REC2/test-set-0/mocks.yaml"; then
  cat "$REC2/test-set-0/mocks.yaml"; fail "a passed-through connection was recorded"
fi
pass "pinning: refused once, then passed through untouched, listed in the summary, not recorded"
echo "all $CHECKS checks passed"
