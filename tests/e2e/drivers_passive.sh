#!/usr/bin/env bash
# Passive recording against client libraries nobody here wrote (drivers/passive/README.md):
# each client keeps one connection to a real PostgreSQL, MariaDB or Redis, warms it up, then
# looks rows up in a loop; `reel record --pid` attaches in the middle of that loop, long after
# the connection's start-up and the driver's prepared statements. With every server stopped:
#  - drivers that send each lookup whole (psycopg2, node pg unnamed, PyMySQL, redis-py, ioredis)
#    replay a fresh run under `reel mock` with the same output and 0 unmatched: reel answered
#    their start-up itself;
#  - drivers whose statements were prepared before reel attached (node pg named, pgx, pgjdbc)
#    are recorded with those calls marked, and the recording says at once that they cannot
#    replay; their replay then fails, as said;
#  - grpcio, both ends: calls on a channel older than reel (its HPACK table never seen) are named
#    as not replayable or left out with a warning, calls on fresh channels are recorded whole, and
#    the server's gRPC tests replay green with its HTTP dependency stopped.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"
D=$E2E_DIR/drivers/passive
export NODE_PATH=$E2E_DIR/drivers/node/node_modules
PGJDBC=/usr/share/java/postgresql.jar PY=/usr/bin/python3
for m in pg ioredis; do [[ -d $NODE_PATH/$m ]] || fail "node module $m is missing (scripts/setup runs npm ci)"; done
[[ -r $PGJDBC ]] || fail "pgjdbc is missing (scripts/setup installs libpostgresql-jdbc-java)"
for m in psycopg2 pymysql redis; do $PY -c "import $m" 2>/dev/null || fail "python3-$m is missing"; done
(cd "$D" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/go-cache" go build -o "$WORK/pgx_loop" pgx_loop.go) \
  > "$WORK/go.log" 2>&1 || { cat "$WORK/go.log"; fail "go build pgx_loop"; }

PG_PASSWORD=pg-Passive-7Kq2 MY_PASSWORD=my-Passive-3Jx8
export REDIS_PASSWORD=rd-Passive-9Vw4
start_postgres "$PG_PASSWORD"
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1 \
  -c "CREATE TABLE items_passive (id int PRIMARY KEY, name text)" \
  -c "INSERT INTO items_passive SELECT i, 'item-' || i FROM generate_series(1, 6) i" || fail "PostgreSQL table"
start_mariadb "$MY_PASSWORD"
mariadb --no-defaults -S "$WORK/my/sock" -uroot shop -e "CREATE TABLE items_passive (id INT PRIMARY KEY, name VARCHAR(20));
  INSERT INTO items_passive VALUES (1,'item-1'),(2,'item-2'),(3,'item-3'),(4,'item-4'),(5,'item-5'),(6,'item-6');" \
  || fail "MariaDB table"
start_redis "$REDIS_PASSWORD"
for i in 1 2 3 4 5 6; do redis-cli -p "$RPORT" -a "$REDIS_PASSWORD" --no-auth-warning SET "item:$i" "item-$i" > /dev/null; done

# client NAME MODE: NAME's command line in MODE (loop or once).
client() {
  case $1 in
    psycopg2) echo "$PY $D/psycopg2_loop.py $PGPORT $2" ;;
    node-pg) echo "node $D/node_pg_loop.js $PGPORT $2 unnamed" ;;
    node-pg-named) echo "node $D/node_pg_loop.js $PGPORT $2 named" ;;
    pgx) echo "$WORK/pgx_loop $PGPORT $2" ;;
    pgjdbc) echo "java -Xshare:auto -cp $PGJDBC $D/PgjdbcLoop.java $PGPORT $2" ;;
    pymysql) echo "$PY $D/pymysql_loop.py $MPORT $2 $MY_PASSWORD" ;;
    redis-py) echo "$PY $D/redis_py_loop.py $RPORT $2" ;;
    ioredis) echo "node $D/ioredis_loop.js $RPORT $2" ;;
  esac
}
REPLAYS=(psycopg2 node-pg pymysql redis-py ioredis)
FLAGGED=(node-pg-named pgx pgjdbc)

for n in "${REPLAYS[@]}" "${FLAGGED[@]}"; do
  # shellcheck disable=SC2046
  $(client "$n" once) > "$WORK/$n.rec.out" 2> "$WORK/$n.live.err" || { cat "$WORK/$n.live.err"; fail "$n: live run"; }
  [[ $(grep -c '^row [1-6] item-[1-6]$' "$WORK/$n.rec.out") -eq 6 ]] || { cat "$WORK/$n.rec.out"; fail "$n: live rows"; }
  # shellcheck disable=SC2046
  $(client "$n" loop) > "$WORK/$n.loop.out" 2> "$WORK/$n.loop.err" &
  pid=$!
  STARTED_PIDS+=($pid)
  deadline=$((SECONDS + 60))
  until grep -qs '^warm$' "$WORK/$n.loop.out"; do
    ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null || { cat "$WORK/$n.loop.err"; fail "$n: never warm"; }
    sleep 0.05
  done
  sleep 0.2
  "$REEL" record -p "$WORK/rec-$n" --pid "$pid" --duration 1500ms > /dev/null 2> "$WORK/$n.rec.err" \
    || { cat "$WORK/$n.rec.err"; fail "$n: reel record --pid exited $?"; }
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -q "0 events lost" "$WORK/$n.rec.err" && grep -q "0 calls without an answer" "$WORK/$n.rec.err" \
    || { cat "$WORK/$n.rec.err"; fail "$n: losses or unanswered calls"; }
done

for n in "${REPLAYS[@]}"; do
  grep -Eq '^self-check: ([3-9][0-9]|[1-9][0-9]{2,}) calls replayed to themselves, .*; 0 problems$' "$WORK/$n.rec.err" \
    || { cat "$WORK/$n.rec.err"; fail "$n: the passive recording's self-check"; }
done
pass "joined mid-loop: psycopg2, node pg, PyMySQL, redis-py and ioredis recorded, every call replayed to itself"

for n in "${FLAGGED[@]}"; do
  grep -q "was prepared before reel joined the connection: its SQL and columns were never seen" "$WORK/$n.rec.err" \
    && grep -q "this recording will not replay as recorded" "$WORK/$n.rec.err" \
    || { cat "$WORK/$n.rec.err"; fail "$n: a statement prepared before reel attached was not named"; }
  echo "# $n: $(grep -m1 "was prepared before" "$WORK/$n.rec.err" | cut -c1-200)"
done
pass "node pg named, pgx and pgjdbc: statements prepared before reel attached are named when recorded"

stop_server "$PG_PID" "$PGPORT" PostgreSQL
stop_server "$MY_PID" "$MPORT" MariaDB
stop_server "$REDIS_PID" "$RPORT" Redis

for n in "${REPLAYS[@]}"; do
  # shellcheck disable=SC2046
  mock_only "$n" 0 $(client "$n" once)
  same_stdout "$n"
done
pass "with every server stopped, a fresh psycopg2, node pg, PyMySQL, redis-py and ioredis run replays: same 6 rows, 0 unmatched (start-up answered by reel)"

for n in "${FLAGGED[@]}"; do
  set +e
  # shellcheck disable=SC2046
  timeout 120 "$REEL" mock -p "$WORK/rec-$n" -- $(client "$n" once) > "$WORK/$n.mock.out" 2> "$WORK/$n.mock.err"
  code=$?
  set -e
  [[ $code -ne 0 ]] && grep -q "unmatched" "$WORK/$n.mock.err" || { cat "$WORK/$n.mock.err"; fail "$n: replay did not fail as announced"; }
done
pass "node pg named, pgx and pgjdbc: the replay fails with unmatched calls, as the recording said"

# gRPC (grpcio), both ends: a client that calls on a channel kept open since before reel
# attached and on fresh ones, and the server it calls (which asks an HTTP dependency).
G=$E2E_DIR/grpc
start_echo_server 127.0.0.1
DEP=${STARTED_PIDS[-1]}
GPORT=$(free_port)
GREETER_DEP=http://127.0.0.1:$SERVER_PORT $PY "$G/server.py" "$GPORT" > "$WORK/grpc-server.log" 2>&1 &
GSERVER=$!
STARTED_PIDS+=($GSERVER)
wait_port "$GPORT"
$PY "$D/grpc_loop.py" "$GPORT" "$G" > "$WORK/grpc.loop.out" 2> "$WORK/grpc.loop.err" &
GCLIENT=$!
STARTED_PIDS+=($GCLIENT)
wait_log "$WORK/grpc.loop.out" '^warm$'
sleep 0.2
"$REEL" record -p "$WORK/rec-grpc-client" --pid "$GCLIENT" --duration 1500ms > /dev/null 2> "$WORK/grpc-client.err" \
  || { cat "$WORK/grpc-client.err"; fail "grpc client: reel record --pid"; }
"$REEL" record -p "$WORK/rec-grpc-server" --app-port "$GPORT" --pid "$GSERVER" --duration 1500ms \
  > /dev/null 2> "$WORK/grpc-server.err" || { cat "$WORK/grpc-server.err"; fail "grpc server: reel record --pid"; }
kill "$GCLIENT"; wait "$GCLIENT" 2>/dev/null || true
/usr/bin/python3 - "$WORK/rec-grpc-client/test-set-0/mocks.yaml" <<'PY' || { cat "$WORK/grpc-client.err"; fail "grpc client mocks"; }
import sys, yaml
mocks = [m for m in yaml.safe_load_all(open(sys.argv[1])) if m]
whole = [m for m in mocks if m["kind"] == "gRPC" and "reel.unreplayable" not in m["spec"].get("metadata", {})]
joined = [m for m in mocks if "HPACK" in m["spec"].get("metadata", {}).get("reel.unreplayable", "")]
assert len(whole) >= 5 and len(joined) >= 5, (len(whole), len(joined), [m["kind"] for m in mocks])
print("grpc client:", len(whole), "calls on fresh channels recorded whole,", len(joined), "on the old one named")
PY
grep -q "HTTP/2 headers on a connection reel joined mid-flight could not all be read" "$WORK/grpc-client.err" \
  && grep -q "this recording will not replay as recorded" "$WORK/grpc-client.err" \
  || { cat "$WORK/grpc-client.err"; fail "grpc client: calls on the old channel not named"; }
grep -q "warning: HTTP/2 requests not recorded: HTTP/2 headers on a connection reel joined mid-flight" "$WORK/grpc-server.err" \
  && grep -Eq "left out: 0 requests sampled out, 0 over a cap, [1-9][0-9]* HTTP/2 on connections joined mid-flight" "$WORK/grpc-server.err" \
  && grep -q " 0 problems" "$WORK/grpc-server.err" \
  || { cat "$WORK/grpc-server.err"; fail "grpc server: requests on the old connection"; }
gtests=$(ls "$WORK/rec-grpc-server/test-set-0/tests" | wc -l)
[[ $gtests -ge 5 ]] && [[ $(grep -l '^kind: gRPC' "$WORK/rec-grpc-server/test-set-0/tests/"*.yaml | wc -l) -eq $gtests ]] \
  || fail "grpc server: $gtests tests, not all gRPC"
stop_server "$GSERVER" "$GPORT" "the gRPC server"
stop_server "$DEP" "$SERVER_PORT" "the HTTP dependency"
GREETER_DEP=http://127.0.0.1:$SERVER_PORT "$REEL" test -p "$WORK/rec-grpc-server" -- $PY "$G/server.py" "$GPORT" > /dev/null 2> "$WORK/grpc-test.err" \
  || { tail -20 "$WORK/grpc-test.err"; fail "grpc server: reel test"; }
grep -q "PASSED: $gtests passed, 0 failed" "$WORK/grpc-test.err" && grep -q " 0 unmatched" "$WORK/grpc-test.err" \
  || { tail -20 "$WORK/grpc-test.err"; fail "grpc server: replay"; }
pass "grpcio: calls on a channel older than reel are named (HPACK) or left out with a warning, calls on fresh channels recorded whole; the server's $gtests gRPC tests replay green with its dependency stopped"

no_secret "" "$PG_PASSWORD"; no_secret "" "$MY_PASSWORD"; no_secret "" "$REDIS_PASSWORD"
pass "no recording holds a password"
echo "drivers_passive: $CHECKS checks passed"
