#!/usr/bin/env bash
# Driver matrix, MySQL row: `reel record` then `reel mock` with real MySQL/MariaDB client
# libraries against mariadbd (user password, mysql_native_password): the mariadb command-line
# client, PyMySQL, node mysql2 (query and execute), go-sql-driver/mysql and MariaDB Connector/J
# (useServerPrepStmts=true). Each runs one scenario (tests/e2e/drivers/mysql/): a health check,
# CREATE TABLE + INSERT, a lookup prepared once and run for 6 ids, a ROLLBACK, an error, rows
# with NULL, DECIMAL and DATETIME, and a procedure returning two result sets. With mariadbd
# stopped, the replay must print the same, exit alike and leave nothing unmatched; a statement
# the recording never saw gets reel's ERROR 1105 and is listed; no password reaches disk.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"

MY_PASSWORD=my-Driver-Secret-5Rt9
D=$E2E_DIR/drivers/mysql
JAR=/usr/share/java/mariadb-java-client.jar
[[ -r $JAR ]] || fail "MariaDB Connector/J is not installed (scripts/setup installs libmariadb-java)"
[[ -d $E2E_DIR/drivers/node/node_modules/mysql2 ]] || fail "node mysql2 is missing (scripts/setup installs it)"
/usr/bin/python3 -c 'import pymysql' || fail "PyMySQL is missing (scripts/setup installs python3-pymysql)"
(cd "$D" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$WORK/go-client" client.go) \
  || fail "building the Go client (scripts/setup installs golang-github-go-sql-driver-mysql-dev)"
export NODE_PATH=$E2E_DIR/drivers/node/node_modules

start_mariadb "$MY_PASSWORD"

# client NAME TABLE: sets CMD to the command line of client NAME on table TABLE. The mariadb
# client goes on past errors (--force) except on t_other, where it is to stop at the first.
client() {
  local name=$1 table=$2 force=--force
  [[ $table == t_other ]] && force=--abort-source-on-error
  case $name in
    cli) CMD=(mariadb --no-defaults --skip-ssl "$force" -h 127.0.0.1 -P "$MPORT" -u app "-p$MY_PASSWORD" shop
      -e "source $WORK/scenario-$table.sql") ;;
    py) CMD=(/usr/bin/python3 "$D/client.py" "$MPORT" "$MY_PASSWORD" "$table") ;;
    node) CMD=(node "$D/client.js" "$MPORT" "$MY_PASSWORD" "$table") ;;
    go) CMD=("$WORK/go-client" "$MPORT" "$MY_PASSWORD" "$table") ;;
    java) CMD=(java -cp "$JAR" "$D/Client.java" "$MPORT" "$MY_PASSWORD" "$table") ;;
  esac
}
cp "$D/scenario.sql" "$WORK/scenario-t_cli.sql"
sed 's/t_cli/t_other/g; s/p_cli/p_other/g' "$D/scenario.sql" > "$WORK/scenario-t_other.sql"

CLIENTS=(cli py node go java)
# Recorded one after another against the live server, each with its own table and procedure.
for c in "${CLIENTS[@]}"; do
  client "$c" "t_$c"
  record_only "my-$c" 0 "${CMD[@]}"
done
# The same pairing, seen by `reel trace`: mysql2 asks MariaDB for extended column metadata, so
# its binary rows are readable only if the column definitions are read that way too.
client node t_trace
"$REEL" trace --protocol mysql --format json -o "$WORK/trace-node.json" -- "${CMD[@]}" > "$WORK/trace-node.out" 2> "$WORK/trace-node.err" \
  || { cat "$WORK/trace-node.err"; fail "reel trace of the mysql2 client failed"; }
got=$(python3 -c 'import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e.get("method") == "COM_STMT_EXECUTE" and e.get("target") == "CALL p_trace()":
        print(e["response"]["body"]["text"], end="")' "$WORK/trace-node.json")
[[ $got == "$(printf '1\t1.50\n3\t3.00\n4\t4.25\n5\t-5.10\n6\t6.00\n6\t9.65')" ]] \
  || { echo "$got"; fail "trace: mysql2's binary result sets (CALL, two sets) decoded wrongly"; }
pass "reel trace: mysql2's prepared CALL (two binary result sets, MariaDB extended metadata) decoded"
stop_server "$MY_PID" "$MPORT" MariaDB

# What each recording must show: the scenario's results, whatever the client's layout.
for c in py node go java; do
  out=$WORK/my-$c.rec.out
  for line in 'health 1' 'inserted 6' 'get 3 3 NULL 3.00 NULL' 'updated 1' 'after rollback one' \
    'row 2 two NULL 2024-02-03 04:05:06' 'result.* 1 5 -5.10' 'result.* 2 6 9.65' done; do
    grep -Eq "^$line(\.0)?\$" "$out" || { cat "$out"; fail "my-$c: recorded output lacks '$line'"; }
  done
  grep -Eq '^error( query| execute)? 1146$' "$out" || { cat "$out"; fail "my-$c: no error 1146"; }
done
grep -q '^4	four	4.25	2024-04-05 06:07:08$' "$WORK/my-cli.rec.out" && grep -q '^6	9.65$' "$WORK/my-cli.rec.out" \
  || { cat "$WORK/my-cli.rec.out"; fail "my-cli: recorded output"; }
grep -q "ERROR 1146 (42S02) at line 22" "$WORK/my-cli.rec.err" || { cat "$WORK/my-cli.rec.err"; fail "my-cli: no ERROR 1146"; }
pass "5 MySQL clients recorded against mariadbd (cli, PyMySQL, mysql2, go-sql-driver, Connector/J)"

for c in "${CLIENTS[@]}"; do
  client "$c" "t_$c"
  mock_only "my-$c" 0 "${CMD[@]}"
  same_stdout "my-$c"
  grep -q "^mocks: [0-9]* exact, 0 structural, 0 unmatched" "$WORK/my-$c.mock.err" \
    || { cat "$WORK/my-$c.mock.err"; fail "$c: not every call was answered by its own recording"; }
  pass "$c: same stdout and exit code with mariadbd stopped, 0 unmatched"
done
grep -q "ERROR 1146 (42S02) at line 22" "$WORK/my-cli.mock.err" || { cat "$WORK/my-cli.mock.err"; fail "my-cli: ERROR 1146 not replayed"; }


# A changed request: the same scenario on a table the recording never saw. (A changed value
# alone, such as another id for the same prepared statement, is answered by structure: see
# README, "Mocks are matched ... by structure".) The first statement naming the table gets
# reel's ERROR 1105 and is listed as unmatched; the client reports it and stops.
miss="reel: no recorded answer for: DROP TABLE IF EXISTS t_other"
for c in "${CLIENTS[@]}"; do
  client "$c" t_other
  set +e
  timeout 120 "$REEL" mock -p "$WORK/rec-my-$c" -- "${CMD[@]}" > "$WORK/my-$c-miss.mock.out" 2> "$WORK/my-$c-miss.mock.err"
  code=$?
  set -e
  [[ $code -eq 1 ]] || { cat "$WORK/my-$c-miss.mock.out" "$WORK/my-$c-miss.mock.err"; fail "$c, changed table: exit $code, want 1"; }
  if [[ $c == cli ]]; then
    grep -qx "ERROR 1105 (HY000) at line 4 in file: '$WORK/scenario-t_other.sql': $miss" "$WORK/my-$c-miss.mock.err" \
      || { cat "$WORK/my-$c-miss.mock.err"; fail "cli: no ERROR 1105"; }
  else
    grep -Eq "^failed.*1105.*$miss\$" "$WORK/my-$c-miss.mock.out" \
      || { cat "$WORK/my-$c-miss.mock.out" "$WORK/my-$c-miss.mock.err"; fail "$c: no error 1105 from reel"; }
  fi
  expect_unmatched "my-$c-miss" "MySQL 127.0.0.1:$MPORT DROP TABLE IF EXISTS t_other"
  grep -q ' 1 unmatched' "$WORK/my-$c-miss.mock.err" || { cat "$WORK/my-$c-miss.mock.err"; fail "$c: want 1 unmatched"; }
  pass "$c, changed table: error 1105 'reel: no recorded answer for: ...', listed as unmatched"
done

# A changed answer shows: a value changed in the recording is what each client prints.
for c in "${CLIENTS[@]}"; do
  client "$c" "t_$c"
  changed_answer_shows "my-$c" two TWO "${CMD[@]}"
  grep -q TWO "$WORK/my-$c-changed.out" || { cat "$WORK/my-$c-changed.out"; fail "$c: the changed value is not printed"; }
done
pass "a changed recorded value (two -> TWO) shows in all 5 clients' output, and nothing else changes"

no_secret my- "$MY_PASSWORD"
pass "no password in any of the 5 recordings"

echo "$CHECKS passed, 0 failed"
