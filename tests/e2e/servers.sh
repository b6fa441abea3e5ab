# Real dependency servers for end-to-end tests, each in its own directory under $WORK, on
# 127.0.0.1 only, ended by lib.sh's cleanup; and the record-then-replay checks the tests share.
# Source lib.sh first.

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

# start_postgres PASSWORD: initdb with scram-sha-256 for user postgres, then postgres on a free
# port. Sets PGPORT and PG_PID, exports PGPASSWORD.
start_postgres() {
  [[ -x $PGBIN/postgres ]] || fail "PostgreSQL is not installed (scripts/setup installs it)"
  PGPORT=$(free_port)
  install -d -o postgres "$WORK/pg"
  echo "$1" > "$WORK/pg/pw" && chown postgres "$WORK/pg/pw"
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$PGBIN/initdb" -D "$WORK/pg/data" \
    -U postgres -A scram-sha-256 --pwfile="$WORK/pg/pw" > "$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log"; fail "initdb failed"; }
  rm "$WORK/pg/pw"
  setpriv --reuid=postgres --regid=postgres --init-groups -- "$PGBIN/postgres" -D "$WORK/pg/data" \
    -k "$WORK/pg" -p "$PGPORT" -c listen_addresses=127.0.0.1 -c fsync=off > "$WORK/pg.log" 2>&1 &
  PG_PID=$!
  STARTED_PIDS+=($PG_PID)
  export PGPASSWORD=$1
  local deadline=$((SECONDS + 20))
  until psql -h 127.0.0.1 -p "$PGPORT" -U postgres -X -Atc 'select 1' >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { cat "$WORK/pg.log"; fail "PostgreSQL did not start"; }
    sleep 0.1
  done
  grep -Eq '^host +all +all +127\.0\.0\.1/32 +scram-sha-256' "$WORK/pg/data/pg_hba.conf" \
    || fail "pg_hba: no scram-sha-256"
}

# start_redis PASSWORD: redis-server with requirepass on a free port. Sets RPORT and REDIS_PID.
start_redis() {
  command -v redis-server >/dev/null || fail "redis-server is not installed (scripts/setup installs it)"
  RPORT=$(free_port)
  setpriv --reuid=redis --regid=redis --init-groups -- redis-server --port "$RPORT" --bind 127.0.0.1 \
    --dir "$WORK" --save '' --appendonly no --daemonize no --requirepass "$1" > "$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  STARTED_PIDS+=($REDIS_PID)
  wait_port "$RPORT"
}

# start_mariadb PASSWORD: mariadbd in its own data directory on a free port, a database `shop`
# and a user app@127.0.0.1 with PASSWORD (mysql_native_password). Sets MPORT and MY_PID; root
# connects through the socket $WORK/my/sock.
start_mariadb() {
  command -v mariadbd >/dev/null || fail "mariadbd is not installed (scripts/setup installs mariadb-server)"
  command -v mariadb >/dev/null || fail "mariadb is not installed (scripts/setup installs mariadb-client)"
  MPORT=$(free_port)
  install -d -o mysql -g mysql "$WORK/my"
  mariadb-install-db --no-defaults --user=mysql --datadir="$WORK/my/data" --skip-test-db \
    --auth-root-authentication-method=socket > "$WORK/my-install.log" 2>&1 \
    || { cat "$WORK/my-install.log"; fail "mariadb-install-db failed"; }
  mariadbd --no-defaults --user=mysql --datadir="$WORK/my/data" --socket="$WORK/my/sock" \
    --pid-file="$WORK/my/pid" --bind-address=127.0.0.1 --port="$MPORT" --skip-log-bin \
    --innodb-buffer-pool-size=16M > "$WORK/mariadbd.log" 2>&1 &
  MY_PID=$!
  STARTED_PIDS+=($MY_PID)
  local deadline=$((SECONDS + 30))
  until mariadb --no-defaults -S "$WORK/my/sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { cat "$WORK/mariadbd.log"; fail "mariadbd did not start"; }
    sleep 0.1
  done
  mariadb --no-defaults -S "$WORK/my/sock" -uroot -e "CREATE DATABASE shop;
    CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY '$1'; GRANT ALL ON shop.* TO 'app'@'127.0.0.1';" \
    || fail "creating the MariaDB user"
}

# stop_server PID PORT NAME: ends a server this test started, waits for it, checks the port refuses.
stop_server() {
  local pid=$1 port=$2 name=$3 rest=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${STARTED_PIDS[@]}"; do [[ $p == "$pid" ]] || rest+=("$p"); done
  STARTED_PIDS=("${rest[@]}")
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "$name still accepts on $port"; fi
}

# record_only NAME EXPECTED_EXIT CMD...: records CMD into $WORK/rec-NAME (RECORD_ARGS added);
# its exit code must be EXPECTED_EXIT, every call answered, and the recording's self-check
# (replayed to itself before reel exits) clean. Leaves $WORK/NAME.rec.{out,err}.
record_only() {
  local name=$1 want_code=$2 code
  shift 2
  set +e
  "$REEL" record -p "$WORK/rec-$name" "${RECORD_ARGS[@]}" -- "$@" > "$WORK/$name.rec.out" 2> "$WORK/$name.rec.err"
  code=$?
  set -e
  [[ $code -eq $want_code ]] || { cat "$WORK/$name.rec.out" "$WORK/$name.rec.err"; fail "$name: recording exited $code, want $want_code"; }
  grep -q "0 calls without an answer" "$WORK/$name.rec.err" || { cat "$WORK/$name.rec.err"; fail "$name: unanswered calls"; }
  grep -Eq '^self-check: [1-9][0-9]* calls replayed to themselves, .*; 0 problems$' "$WORK/$name.rec.err" \
    || { cat "$WORK/$name.rec.err"; fail "$name: the recording's self-check replayed nothing or found problems"; }
}

# mock_only NAME EXPECTED_EXIT CMD...: replays $WORK/rec-NAME to CMD with `reel mock`; exit code
# EXPECTED_EXIT and 0 unmatched. Leaves $WORK/NAME.mock.{out,err}.
mock_only() {
  local name=$1 want_code=$2 code
  shift 2
  set +e
  timeout 120 "$REEL" mock -p "$WORK/rec-$name" -- "$@" > "$WORK/$name.mock.out" 2> "$WORK/$name.mock.err"
  code=$?
  set -e
  [[ $code -eq $want_code ]] || { cat "$WORK/$name.mock.out" "$WORK/$name.mock.err"; fail "$name: reel mock exited $code, want $want_code"; }
  grep -q " 0 unmatched" "$WORK/$name.mock.err" || { cat "$WORK/$name.mock.err"; fail "$name: unmatched calls in replay"; }
}

# record_and_mock NAME EXPECTED_EXIT CMD...: record_only, then STOP_BEFORE_MOCK, then mock_only.
record_and_mock() {
  record_only "$@"
  "${STOP_BEFORE_MOCK[@]}"
  mock_only "$@"
}

same_stdout() {
  cmp -s "$WORK/$1.rec.out" "$WORK/$1.mock.out" \
    || { diff "$WORK/$1.rec.out" "$WORK/$1.mock.out"; fail "$1: replayed stdout differs"; }
}

# expect_unmatched NAME WHAT: reel mock listed WHAT as an unmatched call of NAME's replay.
expect_unmatched() {
  grep -qF "no recorded answer: $2" "$WORK/$1.mock.err" || { cat "$WORK/$1.mock.err"; fail "$1: '$2' not listed as unmatched"; }
}

no_secret() {
  if grep -rqF -e "$2" "$WORK/rec-$1"*; then grep -rnF -e "$2" "$WORK/rec-$1"* | head; fail "$1: the password reached disk"; fi
}

# tamper_recording DIR OLD NEW: changes what the dependency answered in every mocks.yaml under
# DIR: OLD becomes NEW (same length, so no length field changes) inside base64 payloads and in
# plain fields alike. Returns non-zero when OLD was nowhere.
tamper_recording() {
  /usr/bin/python3 - "$@" <<'PY'
import base64, pathlib, re, sys
root, old, new = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
assert len(old.encode()) == len(new.encode()), "same length only"
hits = 0
def swap(m):
    global hits
    raw = base64.b64decode(m.group(2))
    hits += raw.count(old.encode())
    return m.group(1) + base64.b64encode(raw.replace(old.encode(), new.encode())).decode()
for f in root.rglob("mocks.yaml"):
    text = f.read_text()
    hits += text.count(old)
    text = re.sub(r"(payload: )([A-Za-z0-9+/=]+)", swap, text.replace(old, new))
    f.write_text(text)
sys.exit(0 if hits else 1)
PY
}

# changed_answer_shows NAME OLD NEW CMD...: after tamper_recording, replays $WORK/rec-NAME to
# CMD with `reel mock`: the output must differ from the recorded run's, and only by OLD having
# become NEW (the answers come from the recording, and a changed one is seen).
changed_answer_shows() {
  local name=$1 old=$2 new=$3
  shift 3
  tamper_recording "$WORK/rec-$name" "$old" "$new" || fail "$name: '$old' is nowhere in the recording"
  timeout 120 "$REEL" mock -p "$WORK/rec-$name" -- "$@" > "$WORK/$name-changed.out" 2> "$WORK/$name-changed.err" \
    || { cat "$WORK/$name-changed.err"; fail "$name: the replay of the changed recording failed"; }
  cmp -s "$WORK/$name.rec.out" "$WORK/$name-changed.out" && fail "$name: the changed answer ($old -> $new) did not show"
  cmp -s "$WORK/$name.rec.out" <(sed "s/$new/$old/g" "$WORK/$name-changed.out") \
    || { diff "$WORK/$name.rec.out" "$WORK/$name-changed.out"; fail "$name: the output changed beyond $old -> $new"; }
}

# record_users_service APP FIRST_USER: records APP (a users service of tests/e2e/fixtures/keploy_*:
# GET /users, GET /users/ID, POST /users, on $PORT) into $WORK/rec under real curl traffic: two
# users created (FIRST_USER's JSON, then Bob), a duplicate email refused, one user found, one
# missing, the list. Six tests, every call answered, the self-check clean. Leaves
# $WORK/rec.{out,err}.
record_users_service() {
  local app=$1 first=$2 pid deadline
  "$REEL" record -p "$WORK/rec" --app-port "$PORT" -- "$app" > "$WORK/rec.out" 2> "$WORK/rec.err" &
  pid=$!
  STARTED_PIDS+=($pid)
  deadline=$((SECONDS + 30))
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    ((SECONDS < deadline)) || { cat "$WORK/rec.err"; fail "the service did not start under reel record"; }
    sleep 0.1
  done
  local url=http://127.0.0.1:$PORT/users
  code_of() { curl -s -o /dev/null -w '%{http_code}\n' "$@"; }
  post() { code_of -X POST -H 'Content-Type: application/json' -d "$1" "$url"; }
  {
    post "$first"
    post '{"name":"Bob","email":"bob@example.test"}'
    post '{"name":"Ada2","email":"ada@example.test"}'
    code_of "$url/1"
    code_of "$url/99"
    code_of "$url"
  } > "$WORK/codes"
  [[ $(tr '\n' ' ' < "$WORK/codes") == "201 201 409 200 404 200 " ]] \
    || { cat "$WORK/codes" "$WORK/rec.err"; fail "the service did not answer as expected"; }
  kill -INT "$pid"
  wait "$pid" || { cat "$WORK/rec.err"; fail "reel record failed"; }
  grep -q 'recorded .*: 6 tests' "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "expected 6 tests"; }
  grep -Eq '^self-check: .*; 0 problems$' "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "self-check"; }
}
