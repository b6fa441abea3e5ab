#!/usr/bin/env bash
# A recording in Keploy's decoded PostgreSQL form replays with no database: a users service
# (psycopg2, a transaction per write, a unique-violation error) is recorded by reel against a
# real PostgreSQL, its Postgres mocks rewritten the way Keploy writes them (no payload, every
# message as Keploy's fields, no reel metadata: tied to tests by timestamps), PostgreSQL is
# stopped, and `reel test` passes every test from the decoded mocks, 0 unmatched. A decoded
# mock reel cannot use is named, with its line, when the set is loaded. Keploy's keploy.yml is
# read for the command, port, delay, test sets and noise.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"
FIX=$E2E_DIR/fixtures/keploy_pg
/usr/bin/python3 -c 'import psycopg2, yaml' || fail "python3-psycopg2 and python3-yaml are needed (scripts/setup)"

start_postgres pg-Keploy-2Wd9
PORT=$(free_port)
export PORT PGPORT
record_users_service "$FIX/users_app.py" '{"name":"Ada","email":"ada@example.test"}'
stop_server "$PG_PID" "$PGPORT" PostgreSQL

SET=$WORK/rec/test-set-0
/usr/bin/python3 "$FIX/to_keploy.py" "$SET/mocks.yaml"
grep -q 'payload:' "$SET/mocks.yaml" && fail "a payload is left in the converted mocks"
grep -q 'reel\.' "$SET/mocks.yaml" && fail "reel metadata is left in the converted mocks"
grep -q 'row_description:' "$SET/mocks.yaml" && grep -q 'command_tag_type: BEGIN' "$SET/mocks.yaml" \
  && grep -q 'severityunlocalized: ERROR' "$SET/mocks.yaml" || { head -80 "$SET/mocks.yaml"; fail "not Keploy's decoded form"; }
pass "recorded 6 tests against PostgreSQL; mocks rewritten in Keploy's decoded form ($(grep -c '^kind: Postgres' "$SET/mocks.yaml") Postgres mocks, no payload)"

"$REEL" test -p "$WORK/rec" -- "$FIX/users_app.py" > "$WORK/test.out" 2> "$WORK/test.err" \
  || { cat "$WORK/test.err"; fail "reel test on the Keploy-form recording"; }
grep -q 'PASSED: 6 passed, 0 failed' "$WORK/test.err" || { cat "$WORK/test.err"; fail "not all 6 passed"; }
grep -Eq 'mocks: [0-9]+ exact, 0 structural, 0 unmatched' "$WORK/test.err" || { cat "$WORK/test.err"; fail "unmatched calls"; }
grep -q 'cannot be replayed' "$WORK/test.err" && { cat "$WORK/test.err"; fail "a decoded mock was refused"; }
pass "reel test, PostgreSQL stopped: 6 of 6 pass from Keploy-form mocks (BEGIN, INSERT ... RETURNING, COMMIT, a unique violation, SELECTs), 0 unmatched"

# Keploy's keploy.yml beside the recordings: no command, port or delay on reel's command line.
cat > "$WORK/keploy.yml" <<YML
path: ""
appId: 0
command: "env PORT=$PORT PGPORT=$PGPORT $FIX/users_app.py"
port: $PORT
dnsPort: 26789
proxyPort: 16789
test:
  selectedTests:
    test-set-0: []
  globalNoise:
    global:
      header: {"Date": [], "Server": []}
  delay: 1
  apiTimeout: 5
YML
(cd "$WORK" && "$REEL" test -p rec) > "$WORK/test-yml.out" 2> "$WORK/test-yml.err" \
  || { cat "$WORK/test-yml.err"; fail "reel test with keploy.yml"; }
grep -q "read $WORK/keploy.yml: command, port $PORT, delay 1 s, test sets test-set-0, 2 noise rules" "$WORK/test-yml.err" \
  && grep -q 'PASSED: 6 passed, 0 failed' "$WORK/test-yml.err" || { cat "$WORK/test-yml.err"; fail "keploy.yml not used"; }
pass "keploy.yml (command, port, delay, selected test sets, global noise) read: 6 of 6 pass with no flags"

# A field reel cannot use is named with its file and line at load, not reported later as an
# unrecorded query.
/usr/bin/python3 - "$SET/mocks.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for d in docs:
    for p in d["spec"].get("postgresresponses", []):
        if "row_description" in p and "data_row" in p:
            del p["row_description"]
            yaml.safe_dump_all(docs, open(sys.argv[1], "w"), sort_keys=False, width=1 << 20)
            sys.exit(0)
sys.exit(1)
PY
set +e
"$REEL" test -p "$WORK/rec" -- "$FIX/users_app.py" > "$WORK/test2.out" 2> "$WORK/test2.err"
set -e
grep -Eq "mocks\.yaml: mock-[0-9]+ \(Postgres\) cannot be replayed: line [0-9]+: RowDescription without its fields" "$WORK/test2.err" \
  || { cat "$WORK/test2.err"; fail "the unusable mock was not named at load"; }
grep -q 'cannot be replayed (mock-' "$WORK/test2.err" || { cat "$WORK/test2.err"; fail "the miss did not name the unusable mock"; }
pass "a decoded mock without its row_description: named with its line when loaded, and the miss names it"
echo "$CHECKS passed, 0 failed"
