#!/usr/bin/env bash
# `reel trace` on real database clients against real servers on loopback: psql and pgbench
# (simple and extended protocol) against PostgreSQL; redis-cli, a raw pipelining client and
# redis-benchmark pipelines against Redis. Each case asserts the exact set of exchanges seen.
source "$(dirname "$0")/lib.sh"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x $PGBIN/postgres ]] || fail "PostgreSQL is not installed (scripts/setup installs it)"
command -v redis-server >/dev/null || fail "redis-server is not installed (scripts/setup installs it)"

# --- PostgreSQL, in a data directory of this test's own, as the postgres user.
PGPORT=$(free_port)
install -d -o postgres "$WORK/pg"
su postgres -s /bin/sh -c "$PGBIN/initdb -D '$WORK/pg/data' -A trust -U postgres" > "$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; fail "initdb failed"; }
su postgres -s /bin/sh -c "exec $PGBIN/postgres -D '$WORK/pg/data' -k '$WORK/pg' -p $PGPORT \
  -c listen_addresses=127.0.0.1 -c fsync=off" > "$WORK/pg.log" 2>&1 &
STARTED_PIDS+=($!)
wait_port "$PGPORT"
for _ in $(seq 100); do psql -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done

"$REEL" trace --format json -o "$WORK/psql.json" -- psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q \
  -c "CREATE TABLE items (id int PRIMARY KEY, name text)" \
  -c "INSERT INTO items VALUES (1, 'one'), (2, 'two')" \
  -c "SELECT name FROM items ORDER BY id" \
  -c "SELECT * FROM no_such_table" 2> "$WORK/psql.log" >/dev/null || true
got=$(summarize_json "$WORK/psql.json" comm protocol method target status_text error | grep -vE " (Startup|SSLRequest|Terminate) " || true)
want="psql postgres Query CREATE TABLE items (id int PRIMARY KEY, name text) CREATE TABLE -
psql postgres Query INSERT INTO items VALUES (1, 'one'), (2, 'two') INSERT 0 2 -
psql postgres Query SELECT name FROM items ORDER BY id SELECT 2 -"
[[ $(head -3 <<<"$got") == "$want" ]] || { diff <(echo "$want") <(head -3 <<<"$got"); cat "$WORK/psql.log"; fail "psql exchanges differ"; }
sed -n 4p <<<"$got" | grep -q 'Query SELECT \* FROM no_such_table .*does not exist' \
  || { echo "$got"; fail "psql error exchange missing"; }
[[ $(wc -l <<<"$got") -eq 4 ]] || { echo "$got"; fail "psql: expected 4 query exchanges"; }
pass "psql: CREATE, INSERT, SELECT (2 rows) and an error, exactly"

# pgbench with the extended protocol: every transaction's statements appear as Execute exchanges.
su postgres -s /bin/sh -c "$PGBIN/pgbench -h 127.0.0.1 -p $PGPORT -U postgres -i -s 1 -q postgres" \
  > "$WORK/pgbench-init.log" 2>&1 || { cat "$WORK/pgbench-init.log"; fail "pgbench -i failed"; }
"$REEL" trace --format json --protocol pgsql -o "$WORK/pgbench.json" -- \
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -M extended -t 10 -c 1 -n postgres \
  > "$WORK/pgbench.log" 2> "$WORK/pgbench.err" || { cat "$WORK/pgbench.err"; fail "pgbench failed"; }
updates=$(summarize_json "$WORK/pgbench.json" target | grep -c '^UPDATE pgbench_accounts' || true)
selects=$(summarize_json "$WORK/pgbench.json" target | grep -c '^SELECT abalance FROM pgbench_accounts' || true)
[[ $updates -eq 10 && $selects -eq 10 ]] || { summarize_json "$WORK/pgbench.json" method target | sort | uniq -c; fail "pgbench: $updates updates, $selects selects (want 10 each)"; }
pass "pgbench -M extended -t 10: 10 UPDATE and 10 SELECT exchanges"

# --- Redis
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no > "$WORK/redis.log" 2>&1 &
STARTED_PIDS+=($!)
wait_port "$RPORT"

"$REEL" trace --format json -o "$WORK/rcli.json" -- sh -c "
  redis-cli -p $RPORT SET greeting hello >/dev/null
  redis-cli -p $RPORT GET greeting >/dev/null
  redis-cli -p $RPORT INCR counter >/dev/null
  redis-cli -p $RPORT LPUSH list a b c >/dev/null
  redis-cli -p $RPORT LRANGE list 0 -1 >/dev/null
  redis-cli -p $RPORT GET missing >/dev/null" 2> "$WORK/rcli.log"
got=$(summarize_json "$WORK/rcli.json" comm method target | grep -v ' COMMAND' || true)
want="redis-cli SET greeting
redis-cli GET greeting
redis-cli INCR counter
redis-cli LPUSH list
redis-cli LRANGE list
redis-cli GET missing"
[[ $got == "$want" ]] || { diff <(echo "$want") <(echo "$got"); fail "redis-cli exchanges differ"; }
pass "redis-cli (in a shell: children followed): 6 commands exactly"

# Pipelining: 5 commands in one send(), 5 replies.
"$REEL" trace --format json -o "$WORK/rpipe.json" -- python3 - "$RPORT" <<'PY' 2> "$WORK/rpipe.log"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nGET k\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n")
got = b""
while got.count(b"\r\n") < 6:
    got += s.recv(4096)
PY
got=$(summarize_json "$WORK/rpipe.json" method target)
want="PING -
SET k
GET k
INCR n
DEL k"
[[ $(sed 's/ $/ -/' <<<"$got") == "$want" ]] || { diff <(echo "$want") <(echo "$got"); fail "pipelined redis exchanges differ"; }
pass "redis pipeline of 5 (RESP and inline) in one send: 5 exchanges in order"

# The server's own count is the truth: redis-benchmark rounds -n up to whole pipelines.
redis-cli -p "$RPORT" CONFIG RESETSTAT > /dev/null
"$REEL" trace --format json --protocol redis -o "$WORK/rbench.json" -- \
  redis-benchmark -p "$RPORT" -t set,get -n 200 -P 16 -c 2 -q > /dev/null 2> "$WORK/rbench.log"
calls() { redis-cli -p "$RPORT" INFO commandstats | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p"; }
want_sets=$(calls set) want_gets=$(calls get)
sets=$(summarize_json "$WORK/rbench.json" method | grep -c '^SET$' || true)
gets=$(summarize_json "$WORK/rbench.json" method | grep -c '^GET$' || true)
[[ $want_sets -ge 200 && $sets -eq $want_sets && $gets -eq $want_gets ]] || { summarize_json "$WORK/rbench.json" method | sort | uniq -c; fail "redis-benchmark: traced $sets SET, $gets GET; server ran $want_sets, $want_gets"; }
pass "redis-benchmark -P 16 -c 2: every SET ($sets) and GET ($gets) the server ran, no more"

# A connection made before reel attached: tracing the running redis-server by --pid, commands
# on that old connection are recognised (server side, from /proc's listening sockets).
REDIS_PID=$(pgrep -f "redis-server 127.0.0.1:$RPORT" | head -1)
[[ -n $REDIS_PID ]] || fail "cannot find redis-server's pid"
cat > "$WORK/old_conn.py" <<PY
import os, socket, time
s = socket.create_connection(("127.0.0.1", $RPORT))
s.sendall(b"PING\r\n"); s.recv(100)          # before reel: not expected in the trace
open("$WORK/connected", "w").close()
while not os.path.exists("$WORK/go"): time.sleep(0.02)
for cmd in [b"*1\r\n\$4\r\nPING\r\n", b"*3\r\n\$3\r\nSET\r\n\$3\r\nold\r\n\$1\r\n1\r\n"]:
    s.sendall(cmd); s.recv(100)
open("$WORK/done", "w").close()
PY
python3 "$WORK/old_conn.py" &
STARTED_PIDS+=($!)
for _ in $(seq 200); do [[ -e $WORK/connected ]] && break; sleep 0.05; done
"$REEL" trace --pid "$REDIS_PID" --format json -o "$WORK/old.json" 2> "$WORK/old.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_log "$WORK/old.log" "tracing pid"
touch "$WORK/go"
for _ in $(seq 200); do [[ -e $WORK/done ]] && break; sleep 0.05; done
sleep 0.2
kill -INT "$REEL_PID"; wait "$REEL_PID" || fail "reel trace --pid redis exited non-zero"
got=$(summarize_json "$WORK/old.json" comm role method target)
want="redis-server server PING 
redis-server server SET old"
[[ $got == "$want" ]] || { diff <(echo "$want") <(echo "$got"); fail "existing connection not traced"; }
pass "a connection opened before reel attached is traced, as the server side"

echo "$CHECKS passed, 0 failed"
