#!/usr/bin/env bash
# `reel record` and `reel test` on the bundled shop service (Python, PostgreSQL, Redis, an HTTP
# API): record it under real curl traffic, stop every dependency, replay with no dependency
# running; a changed build fails with a readable diff. Also: secrets never reach disk, volatile
# fields are noise, concurrent requests get their own mocks, a kill -9 mid-recording leaves the
# finished tests whole, and a broken YAML file is reported with its file and line.
source "$(dirname "$0")/lib.sh"
SHOP=$E2E_DIR/../../examples/shop
DEPS=$WORK/deps
trap '"$SHOP/deps.sh" stop "$DEPS" >/dev/null 2>&1 || true; cleanup' EXIT

"$SHOP/deps.sh" start "$DEPS" > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; fail "deps.sh start"; }
source "$DEPS/env"
BASE=http://127.0.0.1:$SHOP_PORT
REC=$WORK/rec

# --- 1. A full recording: the fixed traffic, a request carrying secrets, concurrent requests.
printf 'noise:\n  global:\n    - header.X-Cache\n' > "$WORK/reel.yaml"
"$REEL" record -p "$REC" --app-port "$SHOP_PORT" --config "$WORK/reel.yaml" -- "$SHOP/app.py" \
  > "$WORK/rec1.out" 2> "$WORK/rec1.err" &
RPID=$!
wait_port "$SHOP_PORT"
"$SHOP/traffic.sh" "$BASE" > "$WORK/traffic.log" || { cat "$WORK/traffic.log" "$WORK/rec1.err"; fail "traffic.sh"; }
curl -sSf -o /dev/null -H "Authorization: Bearer s3cr3t-token-XYZ" -H "Cookie: session=cookie-secret-123" \
  "$BASE/products/3" || fail "request with secrets"
pairs=("1 EUR" "2 GBP" "3 CHF" "1 JPY" "2 USD" "3 EUR" "1 GBP" "2 CHF")
for pair in "${pairs[@]}"; do
  set -- $pair
  curl -sSf -o /dev/null "$BASE/products/$1/price?currency=$2" &
done
wait $(jobs -p | grep -v "^$RPID$") 2>/dev/null || true
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec1.err"; fail "reel record exited $?"; }
ntests=$((11 + 1 + ${#pairs[@]}))
grep -q "recorded .*test-set-0: $ntests tests" "$WORK/rec1.err" || { cat "$WORK/rec1.err"; fail "expected $ntests tests"; }
[[ $(ls "$REC/test-set-0/tests" | wc -l) -eq $ntests ]] || fail "expected $ntests test files"
pass "record: $ntests tests written, one file each"

if grep -rq -e 's3cr3t-token-XYZ' -e 'cookie-secret-123' "$REC"; then
  grep -rn -e 's3cr3t-token-XYZ' -e 'cookie-secret-123' "$REC" | head; fail "a secret reached disk"
fi
grep -rq 'REDACTED:' "$REC/test-set-0/tests" || fail "no redaction placeholder written"
pass "redaction: Authorization and Cookie values never on disk, placeholders instead"

/usr/bin/python3 - "$REC/test-set-0" <<'PY' || fail "recorded test set content"
import glob, os, re, sys, yaml
root = sys.argv[1]
tests = {}
for f in glob.glob(os.path.join(root, "tests", "*.yaml")):
    d = yaml.safe_load(open(f))
    tests[d["name"]] = d["spec"]
mocks = list(yaml.safe_load_all(open(os.path.join(root, "mocks.yaml"))))
kinds = {m["kind"] for m in mocks}
assert {"Http", "Postgres", "Redis"} <= kinds, kinds
# Noise: the volatile fields of GET /products/1, found without any configuration.
one = [s for s in tests.values() if s["req"]["url"].endswith("/products/1") and s["req"]["method"] == "GET"]
assert one, "no GET /products/1 test"
noise = set(one[0]["assertions"]["noise"])
for want in ("header.Date", "body.requested_at", "body.request_id"):
    assert want in noise, (want, noise)
# Noise from reel.yaml: the cache header of GET /products.
lists = [s for s in tests.values() if s["req"]["url"].endswith("/products") and s["req"]["method"] == "GET"]
assert lists and all("header.X-Cache" in s["assertions"]["noise"] for s in lists), lists[0]["assertions"]
# Concurrency: each price test holds exactly its own rate lookup and view counter.
by_test = {}
for m in mocks:
    t = (m["spec"].get("metadata") or {}).get("reel.test")
    if t: by_test.setdefault(t, []).append(m)
checked = 0
for name, s in tests.items():
    m = re.search(r"/products/(\d+)/price\?currency=(\w+)$", s["req"]["url"])
    if not m: continue
    pid, cur = m.groups()
    own = by_test.get(name, [])
    rates = [x["spec"]["req"]["url"] for x in own if x["kind"] == "Http"]
    assert len(rates) == 1 and rates[0].endswith("/rates/" + cur), (name, rates)
    text = yaml.safe_dump([x["spec"] for x in own if x["kind"] == "Redis"])
    assert "views:" + pid in text, (name, text)
    for other in "1234":
        if other != pid: assert "views:" + other not in text, (name, other, text)
    checked += 1
assert checked == 10, checked
print("content ok:", len(tests), "tests,", len(mocks), "mocks,", checked, "price tests checked")
PY
pass "noise found (Date, requested_at, request_id) and from reel.yaml (X-Cache); concurrent requests each got their own mocks"

# --- 2. kill -9 of reel mid-recording: the tests already written stay whole.
"$REEL" record -p "$REC" --app-port "$SHOP_PORT" -- "$SHOP/app.py" > "$WORK/rec2.out" 2> "$WORK/rec2.err" &
RPID=$!
wait_port "$SHOP_PORT"
for path in /health /products /products/2; do curl -sSf -o /dev/null "$BASE$path" || fail "GET $path"; done
deadline=$((SECONDS + 10))
until [[ $(ls "$REC/test-set-1/tests" 2>/dev/null | wc -l) -eq 3 ]]; do
  ((SECONDS < deadline)) || { cat "$WORK/rec2.err"; fail "3 tests never appeared in test-set-1"; }
  sleep 0.05
done
APP_PID=$(pgrep -P "$RPID")
kill -9 "$RPID"; wait "$RPID" 2>/dev/null || true
kill "$APP_PID"; while kill -0 "$APP_PID" 2>/dev/null; do sleep 0.05; done  # the app outlives reel: end it
pass "kill -9 of reel record after 3 tests"

"$SHOP/deps.sh" stop "$DEPS" > /dev/null
for url in "${DATABASE_URL#*@}" "${REDIS_URL#redis://}" "${RATES_URL#http://}"; do
  hostport=${url%%/*}
  if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}") 2>/dev/null; then fail "$hostport still accepts"; fi
done
pass "every dependency stopped (PostgreSQL, Redis, rates API refuse connections)"

# --- 3. Replay with no dependency running.
"$REEL" test -p "$REC" --test-sets test-set-0 --report "junit:$WORK/junit.xml" -- "$SHOP/app.py" \
  > "$WORK/test1.out" 2> "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "reel test failed"; }
grep -q "PASSED: $ntests passed, 0 failed" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "not all passed"; }
grep -q " 0 unmatched" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "unmatched dependency calls"; }
/usr/bin/python3 -c "
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert r.get('tests') == sys.argv[2] and r.get('failures') == '0', r.attrib" "$WORK/junit.xml" "$ntests" \
  || fail "JUnit report"
ls "$REC"/reports/test-run-*/test-set-0-report.yaml > /dev/null || fail "no YAML report"
pass "reel test: $ntests passed with no dependency running; JUnit and YAML reports written"

"$REEL" test -p "$REC" --test-sets test-set-1 -- "$SHOP/app.py" > /dev/null 2> "$WORK/test2.err" \
  || { cat "$WORK/test2.err"; fail "test-set-1 (recorded before kill -9) does not pass"; }
grep -q "PASSED: 3 passed, 0 failed" "$WORK/test2.err" || { cat "$WORK/test2.err"; fail "test-set-1"; }
pass "the 3 tests written before kill -9 load and pass"

# --- 4. A changed build fails, with a diff a person can read.
set +e
SHOP_VARIANT=changed "$REEL" test -p "$REC" --test-sets test-set-0 -- "$SHOP/app.py" > /dev/null 2> "$WORK/test3.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/test3.err"; fail "changed build: exit $code, want 1"; }
grep -q "FAIL .*/products/1/price?currency=EUR" "$WORK/test3.err" || { cat "$WORK/test3.err"; fail "no FAIL line"; }
grep -q 'body.price (changed)' "$WORK/test3.err" || fail "diff does not name body.price"
grep -q -- '- "4.14"' "$WORK/test3.err" && grep -q -- '+ "4"' "$WORK/test3.err" || fail "diff values"
pass "changed build: exit 1, diff names body.price: \"4.14\" -> \"4\""

# --- 5. A broken test file: the error names the file and the line.
cp -r "$REC" "$WORK/bad"
printf 'version: api.keploy.io/v1beta1\nkind: Http\nname: test-2\nspec:\n  req: [unclosed\n' \
  > "$WORK/bad/test-set-0/tests/test-2.yaml"
set +e
"$REEL" test -p "$WORK/bad" --test-sets test-set-0 -- "$SHOP/app.py" > /dev/null 2> "$WORK/test4.err"
code=$?
set -e
[[ $code -ne 0 ]] || fail "broken YAML passed"
grep -Eq 'test-2\.yaml:[0-9]+' "$WORK/test4.err" || { cat "$WORK/test4.err"; fail "error does not name file:line"; }
pass "broken YAML: '$(grep -Eo '[^ ]*test-2\.yaml:[0-9]+[^;]*' "$WORK/test4.err" | head -1)'"
