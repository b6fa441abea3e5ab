#!/usr/bin/env bash
# `reel record` then `reel mock` with real clients against real servers on loopback: psql and
# pgbench (extended and prepared protocol) against PostgreSQL with scram-sha-256 (and a user with
# clear-text password auth), redis-cli (one command per connection, and --pipe) against Redis
# with requirepass, the mariadb client against mariadbd with a user password, and a DNS client
# against a loopback DNS server. Each server is stopped before the replay; the replayed client's
# stdout and exit code must equal the recorded run's. A query nobody recorded gets the
# protocol's own error and is listed as unmatched, and no password reaches the recording.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"

PG_PASSWORD=pg-Secret-7Qx2 PG_CLEAR_PASSWORD=pg-Clear-3Vb6 REDIS_PASSWORD=redis-Secret-K9z4 MY_PASSWORD=my-Secret-P4w8

# ---------------------------------------------------------------------------------------------
# PostgreSQL: its own data directory, password auth (scram-sha-256) on 127.0.0.1 only.
start_postgres "$PG_PASSWORD"
# A second user whose password crosses the wire in clear text (auth method "password").
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q -c "CREATE ROLE clerk LOGIN PASSWORD '$PG_CLEAR_PASSWORD'" \
  || fail "creating role clerk"
sed -i '1i host all clerk 127.0.0.1/32 password' "$WORK/pg/data/pg_hba.conf"
[[ $(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -Atc 'SELECT pg_reload_conf()') == t ]] || fail "pg_hba reload"

PSQL=(psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q
  -c "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(6,2))"
  -c "INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', NULL)"
  -c "SELECT id, name, price FROM items ORDER BY id"
  -c "SELECT 1/0")
cat > "$WORK/bench.sql" <<'EOF'
\set id 3
SELECT :id * 2 AS doubled, name FROM items WHERE id = :id - 2 \gset
\if :doubled != 6
SELECT 1/0;
\endif
UPDATE items SET name = name || '!' WHERE id = :id - 1;
EOF
PGBENCH=("$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -t 3 -f "$WORK/bench.sql" postgres)

set +e
"$REEL" record -p "$WORK/rec-psql" -- "${PSQL[@]}" > "$WORK/psql.rec.out" 2> "$WORK/psql.rec.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/psql.rec.err"; fail "psql recording exited $code, want 1 (division by zero)"; }
for mode in extended prepared; do
  "$REEL" record -p "$WORK/rec-pgbench-$mode" -- "${PGBENCH[@]}" -M "$mode" \
    > "$WORK/pgbench-$mode.rec.out" 2> "$WORK/pgbench-$mode.rec.err" \
    || { cat "$WORK/pgbench-$mode.rec.err"; fail "pgbench -M $mode recording failed"; }
done
PGPASSWORD=$PG_CLEAR_PASSWORD "$REEL" record -p "$WORK/rec-psql-clear" -- psql -h 127.0.0.1 -p "$PGPORT" \
  -U clerk -d postgres -X -Atc "SELECT current_user" > "$WORK/psql-clear.rec.out" 2> "$WORK/psql-clear.rec.err" \
  || { cat "$WORK/psql-clear.rec.err"; fail "psql as clerk (password auth) recording failed"; }
[[ $(cat "$WORK/psql-clear.rec.out") == clerk ]] || { cat "$WORK/psql-clear.rec.err"; fail "psql as clerk: recorded output"; }
stop_server "$PG_PID" "$PGPORT" PostgreSQL

# psql: replayed with the server gone.
want=" id | name | price 
----+------+-------
  1 | one  |  1.50
  2 | two  |      
(2 rows)"
[[ $(cat "$WORK/psql.rec.out") == "$want" ]] || { cat "$WORK/psql.rec.out"; fail "psql: recorded output"; }
set +e
timeout 60 "$REEL" mock -p "$WORK/rec-psql" -- "${PSQL[@]}" > "$WORK/psql.mock.out" 2> "$WORK/psql.mock.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/psql.mock.err"; fail "psql under reel mock exited $code, want 1"; }
same_stdout psql
grep -q '^ERROR:  division by zero$' "$WORK/psql.mock.err" || { cat "$WORK/psql.mock.err"; fail "psql: recorded error not replayed"; }
grep -q ' 0 unmatched' "$WORK/psql.mock.err" || { cat "$WORK/psql.mock.err"; fail "psql: unmatched calls"; }
pass "psql (scram-sha-256): CREATE, INSERT, SELECT, an error; same stdout and exit 1 with PostgreSQL stopped"

for mode in extended prepared; do
  n=pgbench-$mode
  timeout 60 "$REEL" mock -p "$WORK/rec-$n" -- "${PGBENCH[@]}" -M "$mode" > "$WORK/$n.mock.out" 2> "$WORK/$n.mock.err" \
    || { cat "$WORK/$n.mock.err"; fail "$n under reel mock failed"; }
  timing='^(latency average|initial connection time|tps) = '
  diff <(grep -Ev "$timing" "$WORK/$n.rec.out") <(grep -Ev "$timing" "$WORK/$n.mock.out") || fail "$n: replayed report differs"
  grep -qx "query mode: $mode" "$WORK/$n.mock.out" || fail "$n: query mode"
  grep -qx 'number of transactions actually processed: 3/3' "$WORK/$n.mock.out" || { cat "$WORK/$n.mock.out"; fail "$n: transactions"; }
  grep -qx 'number of failed transactions: 0 (0.000%)' "$WORK/$n.mock.out" || fail "$n: failed transactions"
  grep -q ' 0 unmatched' "$WORK/$n.mock.err" || { cat "$WORK/$n.mock.err"; fail "$n: unmatched calls"; }
done
pass "pgbench -M extended and -M prepared: 3/3 transactions (SELECT checked by \\if, UPDATE) replayed, 0 unmatched"

set +e
timeout 60 "$REEL" mock -p "$WORK/rec-psql" -- psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -q \
  -c "SELECT name FROM items WHERE id = 99" > "$WORK/psql-miss.mock.out" 2> "$WORK/psql-miss.mock.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/psql-miss.mock.err"; fail "psql, unrecorded query: exit $code, want 1"; }
grep -qx 'ERROR:  reel: no recorded answer for: SELECT name FROM items WHERE id = 99' "$WORK/psql-miss.mock.err" \
  || { cat "$WORK/psql-miss.mock.err"; fail "psql: no error for an unrecorded query"; }
expect_unmatched psql-miss "Postgres 127.0.0.1:$PGPORT SELECT name FROM items WHERE id = 99"
pass "psql, unrecorded query: 'ERROR:  reel: no recorded answer for: ...', listed as unmatched"

PGPASSWORD=$PG_CLEAR_PASSWORD timeout 60 "$REEL" mock -p "$WORK/rec-psql-clear" -- psql -h 127.0.0.1 \
  -p "$PGPORT" -U clerk -d postgres -X -Atc "SELECT current_user" > "$WORK/psql-clear.mock.out" \
  2> "$WORK/psql-clear.mock.err" || { cat "$WORK/psql-clear.mock.err"; fail "psql as clerk under reel mock failed"; }
same_stdout psql-clear
grep -q 'password: REDACTED:' "$WORK/rec-psql-clear/test-set-0/mocks.yaml" || fail "no redacted password message"
no_secret psql "$PG_PASSWORD"  # also matches rec-psql-clear
no_secret psql "$PG_CLEAR_PASSWORD"
no_secret pgbench "$PG_PASSWORD"
pass "PostgreSQL: no password in the recordings, not even the one sent in clear text (replayed all the same)"

# ---------------------------------------------------------------------------------------------
# Redis with requirepass: one redis-cli per command (each AUTHs first), then a --pipe.
start_redis "$REDIS_PASSWORD"
cat > "$WORK/redis-cli.sh" <<EOF
cli() { redis-cli --no-auth-warning -a "\$REDIS_PASSWORD" -p $RPORT "\$@"; }
cli SET greeting hello
cli GET greeting
cli INCR counter
cli RPUSH list a b c
cli LRANGE list 0 -1
cli HSET h f1 v1 f2 v2
cli HGETALL h
cli GET missing
cli LPOP greeting
printf 'SET p1 one\r\nSET p2 two\r\nMGET p1 p2 nope\r\nINCRBY counter 10\r\n' | cli --pipe
EOF
export REDIS_PASSWORD
RECORD_ARGS=() STOP_BEFORE_MOCK=(stop_server "$REDIS_PID" "$RPORT" Redis)
record_and_mock redis 0 sh "$WORK/redis-cli.sh"
want="OK
hello
1
3
a
b
c
2
f1
v1
f2
v2

WRONGTYPE Operation against a key holding the wrong kind of value

All data transferred. Waiting for the last reply...
Last reply received from server.
errors: 0, replies: 4"
[[ $(cat "$WORK/redis.rec.out") == "$want" ]] || { diff <(echo "$want") "$WORK/redis.rec.out"; fail "redis: recorded output"; }
same_stdout redis
pass "redis-cli (requirepass): 9 commands and a --pipe of 4 (ending in a random ECHO); same stdout with Redis stopped"

set +e
timeout 60 "$REEL" mock -p "$WORK/rec-redis" -- redis-cli --no-raw --no-auth-warning -a "$REDIS_PASSWORD" \
  -p "$RPORT" GET never-recorded > "$WORK/redis-miss.mock.out" 2> "$WORK/redis-miss.mock.err"
set -e
[[ $(cat "$WORK/redis-miss.mock.out") == "(error) ERR reel: no recorded answer for GET never-recorded" ]] \
  || { cat "$WORK/redis-miss.mock.out" "$WORK/redis-miss.mock.err"; fail "redis: no error for an unrecorded command"; }
expect_unmatched redis-miss "Redis 127.0.0.1:$RPORT GET never-recorded"
pass "redis-cli, unrecorded command: '(error) ERR reel: no recorded answer for GET never-recorded', listed"

no_secret redis "$REDIS_PASSWORD"
pass "Redis: the password is nowhere in the recording"

# ---------------------------------------------------------------------------------------------
# MariaDB: its own data directory; the app user has a password (mysql_native_password).
start_mariadb "$MY_PASSWORD"
MARIADB=(mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MPORT" -u app "-p$MY_PASSWORD" shop)
RECORD_ARGS=() STOP_BEFORE_MOCK=(stop_server "$MY_PID" "$MPORT" MariaDB)
record_and_mock mariadb 1 "${MARIADB[@]}" -e "
  CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(6,2));
  INSERT INTO items VALUES (1, 'one', 1.50), (2, 'two', NULL);
  SELECT * FROM items ORDER BY id;
  SELECT name FROM items WHERE id = 2;
  SELECT COUNT(*) AS n FROM items;
  SELECT * FROM no_such_table"
want=$(printf 'id\tname\tprice\n1\tone\t1.50\n2\ttwo\tNULL\nname\ntwo\nn\n2')
[[ $(cat "$WORK/mariadb.rec.out") == "$want" ]] || { cat "$WORK/mariadb.rec.out"; fail "mariadb: recorded output"; }
same_stdout mariadb
grep -q "^ERROR 1146 (42S02) at line 7: Table 'shop.no_such_table' doesn't exist$" "$WORK/mariadb.mock.err" \
  || { cat "$WORK/mariadb.mock.err"; fail "mariadb: recorded error not replayed"; }
pass "mariadb (user password): CREATE, INSERT, 3 SELECTs, ERROR 1146; same stdout and exit 1 with mariadbd stopped"

set +e
timeout 60 "$REEL" mock -p "$WORK/rec-mariadb" -- "${MARIADB[@]}" -e "SELECT price FROM items WHERE id = 1" \
  > "$WORK/mariadb-miss.mock.out" 2> "$WORK/mariadb-miss.mock.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/mariadb-miss.mock.err"; fail "mariadb, unrecorded query: exit $code, want 1"; }
grep -qx 'ERROR 1105 (HY000) at line 1: reel: no recorded answer for: SELECT price FROM items WHERE id = 1' \
  "$WORK/mariadb-miss.mock.err" || { cat "$WORK/mariadb-miss.mock.err"; fail "mariadb: no ERROR 1105"; }
expect_unmatched mariadb-miss "MySQL 127.0.0.1:$MPORT SELECT price FROM items WHERE id = 1"
pass "mariadb, unrecorded query: 'ERROR 1105 (HY000) ... reel: no recorded answer for: ...', listed"

no_secret mariadb "$MY_PASSWORD"
pass "MariaDB: the password is nowhere in the recording"

# ---------------------------------------------------------------------------------------------
# DNS: a loopback server (UDP and TCP on one port) as the upstream; the client asks 127.0.0.53:53,
# which reel redirects to its forwarder (record) or its mock server (mock).
cat > "$WORK/dns_server.py" <<'PY'
import socket, struct, sys, threading
ZONE = {b"\x03api\x04reel\x04test\x00": bytes([127, 0, 0, 7]),
        b"\x02db\x04reel\x04test\x00": bytes([127, 0, 0, 8])}
def answer(q):
    qid = struct.unpack(">H", q[:2])[0]
    end = 12
    while q[end] != 0: end += q[end] + 1
    name, qtype = q[12:end + 1].lower(), struct.unpack(">H", q[end + 1:end + 3])[0]
    addr = ZONE.get(name)
    an = 1 if addr and qtype == 1 else 0
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | (0 if addr else 3), 1, an, 0, 0)
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + addr if an else b""
    return hdr + q[12:end + 5] + rr
while True:  # one port for both: retry until a port free for UDP is also free for TCP
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
    tcp = socket.socket()
    try:
        tcp.bind(("127.0.0.1", udp.getsockname()[1])); break
    except OSError:
        udp.close(); tcp.close()
tcp.listen()
open(sys.argv[1] + ".tmp", "w").write(str(udp.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def serve_tcp():
    while True:
        c, _ = tcp.accept()
        n = struct.unpack(">H", c.recv(2))[0]
        a = answer(c.recv(n)); c.sendall(struct.pack(">H", len(a)) + a); c.close()
threading.Thread(target=serve_tcp, daemon=True).start()
while True:
    q, peer = udp.recvfrom(512); udp.sendto(answer(q), peer)
PY
cat > "$WORK/dns_client.py" <<'PY'
# Asks 127.0.0.53:53 for the A record of each NAME (NAME/tcp: over TCP); prints what came back.
import socket, struct, sys
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN"}
def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for part in name.split("."): q += bytes([len(part)]) + part.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)
def ask(q, tcp):
    if tcp:
        s = socket.create_connection(("127.0.0.53", 53), timeout=5)
        s.sendall(struct.pack(">H", len(q)) + q)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            chunk = s.recv(4096)
            if not chunk: break
            buf += chunk
        return buf[2:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(q, ("127.0.0.53", 53))
    return s.recvfrom(4096)[0]
for i, arg in enumerate(sys.argv[1:]):
    name, _, proto = arg.partition("/")
    q = query(name, 0x1000 + i)
    r = ask(q, proto == "tcp")
    qid, flags, qd, an = struct.unpack(">HHHH", r[:8])
    pos, addrs = len(q), []
    for _ in range(an):
        pos += 2 if r[pos] & 0xc0 == 0xc0 else r.index(b"\x00", pos) + 1 - pos
        rtype, _, ttl, rdlen = struct.unpack(">HHIH", r[pos:pos + 10]); pos += 10
        if rtype == 1: addrs.append(socket.inet_ntoa(r[pos:pos + rdlen]))
        pos += rdlen
    print(arg, "same-id" if qid == 0x1000 + i else "other-id", RCODES.get(flags & 0xf, flags & 0xf),
          " ".join(addrs) or "-")
PY
python3 "$WORK/dns_server.py" "$WORK/dns.port" &
DNS_PID=$!
STARTED_PIDS+=($DNS_PID)
deadline=$((SECONDS + 10))
until [[ -s $WORK/dns.port ]]; do ((SECONDS < deadline)) || fail "DNS server did not start"; sleep 0.05; done
DPORT=$(cat "$WORK/dns.port")
RECORD_ARGS=(--dns-upstream "127.0.0.1:$DPORT") STOP_BEFORE_MOCK=(stop_server "$DNS_PID" "$DPORT" "DNS server")
record_and_mock dns 0 python3 "$WORK/dns_client.py" api.reel.test db.reel.test/tcp nope.reel.test
want="api.reel.test same-id NOERROR 127.0.0.7
db.reel.test/tcp same-id NOERROR 127.0.0.8
nope.reel.test same-id NXDOMAIN -"
[[ $(cat "$WORK/dns.rec.out") == "$want" ]] || { cat "$WORK/dns.rec.out" "$WORK/dns.rec.err"; fail "dns: recorded output"; }
grep -q 'DNS 3' "$WORK/dns.rec.err" || { cat "$WORK/dns.rec.err"; fail "dns: expected 3 DNS mocks"; }
same_stdout dns
pass "DNS over UDP and TCP (NOERROR, NOERROR, NXDOMAIN): same answers with the DNS server stopped"

timeout 60 "$REEL" mock -p "$WORK/rec-dns" -- python3 "$WORK/dns_client.py" other.reel.test other.reel.test/tcp \
  > "$WORK/dns-miss.mock.out" 2> "$WORK/dns-miss.mock.err" || { cat "$WORK/dns-miss.mock.err"; fail "dns: client failed"; }
want="other.reel.test same-id SERVFAIL -
other.reel.test/tcp same-id SERVFAIL -"
[[ $(cat "$WORK/dns-miss.mock.out") == "$want" ]] || { cat "$WORK/dns-miss.mock.out" "$WORK/dns-miss.mock.err"; fail "dns: no SERVFAIL"; }
grep -q ' 2 unmatched' "$WORK/dns-miss.mock.err" \
  && [[ $(grep -c 'no recorded answer: DNS 127.0.0.53:53 A other.reel.test.$' "$WORK/dns-miss.mock.err") -eq 2 ]] \
  || { cat "$WORK/dns-miss.mock.err"; fail "dns: unrecorded names not listed"; }
pass "DNS, unrecorded name over UDP and TCP: SERVFAIL, both listed as unmatched under the resolver the app asked (127.0.0.53:53)"

echo "$CHECKS passed, 0 failed"
