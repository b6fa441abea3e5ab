#!/usr/bin/env bash
# The PostgreSQL row of the driver matrix: seven client libraries nobody here wrote run one
# scenario each (tests/e2e/drivers/postgres/README.md: scram-sha-256 login, health check, DDL,
# parameterised queries past the driver's prepared-statement threshold, a rolled-back
# transaction, an error, a last query) under `reel record` against a real PostgreSQL. The server
# is stopped; under `reel mock` each client must print the same lines and exit the same way
# with 0 unmatched calls; a last query nobody recorded must fail in the driver with reel's
# SQLSTATE XX000 and be listed as unmatched; and a recorded answer changed on disk must show in
# the driver's output.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"
D=$E2E_DIR/drivers/postgres
export NODE_PATH=$E2E_DIR/drivers/node/node_modules
[[ -d $NODE_PATH/pg ]] || fail "node pg is missing: scripts/setup runs npm ci in tests/e2e/drivers/node"
PGJDBC=/usr/share/java/postgresql.jar
[[ -r $PGJDBC ]] || fail "pgjdbc is missing (scripts/setup installs libpostgresql-jdbc-java)"
for m in psycopg2 psycopg asyncpg; do
  /usr/bin/python3 -c "import $m" 2>/dev/null || fail "python3-$m is missing (scripts/setup installs it)"
done

# Go clients, built offline against Debian's packaged sources.
for prog in lib_pq pgx; do
  (cd "$D" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/go-cache" go build -o "$WORK/$prog" "$prog.go") \
    > "$WORK/go-$prog.log" 2>&1 || { cat "$WORK/go-$prog.log"; fail "go build $prog"; }
done

PG_PASSWORD=pg-Matrix-5Tq8
start_postgres "$PG_PASSWORD"

cat > "$WORK/psql.sh" <<'SH'
# psql (libpq, simple query protocol) running the same scenario.
port=$1 extra=${2:-SELECT 42 AS answer} t=items_psql
q() { psql -h 127.0.0.1 -p "$port" -U postgres -X -At -v ON_ERROR_STOP=1 "$@"; }
echo "ping $(q -c 'SELECT 1')"
q -q -c "DROP TABLE IF EXISTS $t" -c "CREATE TABLE $t (id int PRIMARY KEY, name text, price numeric(6,2))" \
  -c "INSERT INTO $t SELECT i, 'item-' || i, CASE WHEN i = 4 THEN NULL ELSE i * 1.25 END FROM generate_series(1, 6) i"
for i in 1 2 3 4 5 6; do echo "row $i $(q -c "SELECT name, price FROM $t WHERE id = $i")"; done
q -q -c "BEGIN" -c "UPDATE $t SET name = 'changed' WHERE id = 1" -c "ROLLBACK"
echo "after rollback $(q -c "SELECT name FROM $t WHERE id = 1")"
echo "error $(q -c 'SELECT 1/0' 2>&1 | head -1)"
out=$(q -c "$extra" 2>&1) || { echo "extra failed: $out"; exit 3; }
echo "extra $out"
SH

declare -A CMD=(
  [psql]="bash $WORK/psql.sh"
  [psycopg2]="/usr/bin/python3 $D/psycopg2_client.py"
  [psycopg3]="/usr/bin/python3 $D/psycopg3_client.py"
  [asyncpg]="/usr/bin/python3 $D/asyncpg_client.py"
  [node-pg]="node $D/node_pg.js"
  [lib-pq]="$WORK/lib_pq"
  [pgx]="$WORK/pgx"
  [pgjdbc]="java -Xshare:auto -cp $PGJDBC $D/Pgjdbc.java"
)
NAMES=(psql psycopg2 psycopg3 asyncpg node-pg lib-pq pgx pgjdbc)

for n in "${NAMES[@]}"; do
  RECORD_ARGS=()
  # shellcheck disable=SC2086
  record_only "$n" 0 ${CMD[$n]} "$PGPORT"
  out=$WORK/$n.rec.out
  grep -q '^after rollback item-1$' "$out" && grep -Eq '^error (22012|ERROR:  division by zero)$' "$out" \
    && [[ $(grep -c '^row ' "$out") -ge 6 ]] && grep -q '^extra .*42' "$out" \
    || { cat "$out" "$WORK/$n.rec.err"; fail "$n: the scenario did not run as expected against PostgreSQL"; }
done
pass "8 clients recorded against PostgreSQL (psql, psycopg2, psycopg 3, asyncpg, node pg, lib/pq, pgx, pgjdbc), every call answered"

stop_server "$PG_PID" "$PGPORT" PostgreSQL

for n in "${NAMES[@]}"; do
  # shellcheck disable=SC2086
  mock_only "$n" 0 ${CMD[$n]} "$PGPORT"
  same_stdout "$n"
  pass "$n: replayed with PostgreSQL stopped: same $(wc -l < "$WORK/$n.mock.out") lines, exit 0, 0 unmatched"
done

for n in "${NAMES[@]}"; do
  set +e
  # shellcheck disable=SC2086
  timeout 120 "$REEL" mock -p "$WORK/rec-$n" -- ${CMD[$n]} "$PGPORT" "SELECT 42 AS other" \
    > "$WORK/$n-miss.mock.out" 2> "$WORK/$n-miss.mock.err"
  code=$?
  set -e
  [[ $code -eq 3 ]] || { cat "$WORK/$n-miss.mock.out" "$WORK/$n-miss.mock.err"; fail "$n: an unrecorded query: exit $code, want 3"; }
  grep -Eq '^extra failed.*(XX000|reel: no recorded answer)' "$WORK/$n-miss.mock.out" \
    || { cat "$WORK/$n-miss.mock.out"; fail "$n: the driver did not see reel's error"; }
  expect_unmatched "$n-miss" "Postgres 127.0.0.1:$PGPORT SELECT 42 AS other"
done
pass "an unrecorded query fails in all 8 drivers with SQLSTATE XX000 and is listed as unmatched"

# A changed answer shows: with one recorded value changed on disk, every driver prints the
# changed one, and nothing else differs.
for n in "${NAMES[@]}"; do
  # shellcheck disable=SC2086
  changed_answer_shows "$n" item-3 item-Z ${CMD[$n]} "$PGPORT"
  grep -q '^row 3 .*item-Z' "$WORK/$n-changed.out" || { cat "$WORK/$n-changed.out"; fail "$n: row 3 not changed"; }
done
pass "a changed recorded answer (item-3 -> item-Z) shows in all 8 drivers' output, and nothing else changes"

no_secret "" "$PG_PASSWORD"
pass "no recording holds the password"
echo "$CHECKS passed, 0 failed"
