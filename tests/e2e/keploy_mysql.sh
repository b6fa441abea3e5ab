#!/usr/bin/env bash
# A recording in Keploy's decoded MySQL form replays with no database: a users service (PyMySQL,
# a COMMIT per write, a duplicate-key error, NULL columns) is recorded by reel against a real
# mariadbd, its MySQL mocks rewritten the way Keploy writes them (no payload, every packet as
# Keploy's fields: HandshakeV10, OK, ERR, TextResultSet with columns, eofAfterColumns, rows and
# FinalResponse; no reel metadata, not even the server's address), MariaDB is stopped, and
# `reel test` passes every test from the decoded mocks, 0 unmatched: the mock server greets a
# client that waits (MySQL speaks first) once it has been silent for a moment. A decoded mock
# reel cannot use is named, with its line, when the set is loaded.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"
FIX=$E2E_DIR/fixtures/keploy_mysql
/usr/bin/python3 -c 'import pymysql, yaml' || fail "python3-pymysql and python3-yaml are needed (scripts/setup)"

MYPASSWORD=my-Keploy-7Qx2
start_mariadb "$MYPASSWORD"
PORT=$(free_port)
export PORT MPORT MYPASSWORD
record_users_service "$FIX/users_app.py" '{"name":"Ada","email":"ada@example.test","city":"London"}'
stop_server "$MY_PID" "$MPORT" MariaDB

SET=$WORK/rec/test-set-0
/usr/bin/python3 "$FIX/to_keploy.py" "$SET/mocks.yaml"
grep -q 'payload:' "$SET/mocks.yaml" && fail "a payload is left in the converted mocks"
grep -q 'reel\.' "$SET/mocks.yaml" && fail "reel metadata is left in the converted mocks"
grep -q 'packet_type: TextResultSet' "$SET/mocks.yaml" && grep -q 'columnCount: 5' "$SET/mocks.yaml" \
  && grep -q 'error_code: 1062' "$SET/mocks.yaml" && grep -q 'value: null' "$SET/mocks.yaml" \
  && grep -q 'packet_type: HandshakeV10' "$SET/mocks.yaml" || { head -120 "$SET/mocks.yaml"; fail "not Keploy's decoded form"; }
pass "recorded 6 tests against MariaDB; mocks rewritten in Keploy's decoded form ($(grep -c '^kind: MySQL' "$SET/mocks.yaml") MySQL mocks, no payload)"

"$REEL" test -p "$WORK/rec" -- "$FIX/users_app.py" > "$WORK/test.out" 2> "$WORK/test.err" \
  || { cat "$WORK/test.err" "$WORK/test.out"; head -150 "$SET/mocks.yaml"; fail "reel test on the Keploy-form recording"; }
grep -q 'PASSED: 6 passed, 0 failed' "$WORK/test.err" || { cat "$WORK/test.err"; fail "not all 6 passed"; }
grep -Eq 'mocks: [0-9]+ exact, 0 structural, 0 unmatched' "$WORK/test.err" || { cat "$WORK/test.err"; fail "unmatched calls"; }
grep -q 'cannot be replayed' "$WORK/test.err" && { cat "$WORK/test.err"; fail "a decoded mock was refused"; }
pass "reel test, MariaDB stopped: 6 of 6 pass from Keploy-form mocks (greeting, INSERT + COMMIT, a duplicate-key ERR, SELECTs with NULLs), 0 unmatched"

# A field reel cannot use is named with its file and line at load, and the miss names it.
/usr/bin/python3 - "$SET/mocks.yaml" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for d in docs:
    for p in d["spec"].get("responses", []):
        if p["header"]["packet_type"] == "TextResultSet" and "WHERE id" in d["spec"]["requests"][0]["message"]["query"]:
            del p["message"]["columns"]
            yaml.safe_dump_all(docs, open(sys.argv[1], "w"), sort_keys=False, width=1 << 20)
            sys.exit(0)
sys.exit(1)
PY
set +e
"$REEL" test -p "$WORK/rec" -- "$FIX/users_app.py" > "$WORK/test2.out" 2> "$WORK/test2.err"
set -e
grep -Eq "mocks\.yaml: mock-[0-9]+ \(MySQL\) cannot be replayed: line [0-9]+: TextResultSet without its columns" "$WORK/test2.err" \
  || { cat "$WORK/test2.err"; fail "the unusable mock was not named at load"; }
grep -q 'cannot be replayed (mock-' "$WORK/test2.err" || { cat "$WORK/test2.err"; fail "the miss did not name the unusable mock"; }
pass "a decoded TextResultSet without its columns: named with its line when loaded, and the miss names it"
echo "$CHECKS passed, 0 failed"
