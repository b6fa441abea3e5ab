#!/usr/bin/env bash
# Driver matrix, Redis row (issue 11): real Redis client libraries under `reel record` against a
# real redis-server with requirepass, then under `reel mock` with Redis stopped. Each client runs
# one standard scenario (drivers/redis/*: AUTH, PING, strings, hashes, lists, the client's own
# pipelining, MULTI/EXEC with a failing command, MULTI/DISCARD, an error reply, a missing key,
# and on a second connection SUBSCRIBE to two channels then a bare UNSUBSCRIBE):
# redis-py (pipeline and transaction), node-redis v4 (one-tick batches), ioredis v5
# (auto-pipelining and pipeline()), redigo (Send/Flush/Receive). The replay must print the same,
# exit the same and leave nothing unmatched; a run with a key nobody recorded must get reel's
# Redis error and be listed; no password reaches the recordings.
source "$(dirname "$0")/lib.sh"
source "$E2E_DIR/servers.sh"

REDIS_PASSWORD=drv-Redis-Secret-5Tq8 VALUE=v-7Rk2 PY=/usr/bin/python3
DRV="$E2E_DIR/drivers/redis"
export REDIS_PASSWORD NODE_PATH="$E2E_DIR/drivers/node/node_modules"

[[ -x $REEL ]] || fail "no reel binary at $REEL (build it, or set REEL)"
$PY -c 'import redis' 2>/dev/null || fail "redis-py is missing (scripts/setup installs python3-redis)"
command -v node >/dev/null || fail "node is missing (scripts/setup installs nodejs)"
for m in redis ioredis; do
  [[ -d $NODE_PATH/$m ]] || fail "node module $m is missing in $NODE_PATH (scripts/setup runs npm ci there)"
done
command -v go >/dev/null || fail "go is missing (scripts/setup installs golang-go)"
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/go-cache" GOFLAGS= \
  go build -o "$WORK/redigo" "$DRV/redigo.go" > "$WORK/go-build.log" 2>&1 \
  || { cat "$WORK/go-build.log"; fail "building the redigo client (scripts/setup installs golang-github-gomodule-redigo-dev)"; }

CLIENTS=(redis-py node-redis ioredis redigo)
# client_cmd NAME: the command line of NAME's scenario, without its PORT PREFIX VALUE arguments.
client_cmd() {
  case $1 in
    redis-py) CMD=("$PY" "$DRV/redis_py.py") ;;
    node-redis) CMD=(node "$DRV/node_redis.js") ;;
    ioredis) CMD=(node "$DRV/ioredis.js") ;;
    redigo) CMD=("$WORK/redigo") ;;
  esac
}

# Record every client against one Redis (each under its own key prefix), then stop it.
start_redis "$REDIS_PASSWORD"
RECORD_ARGS=()
for c in "${CLIENTS[@]}"; do
  client_cmd "$c"
  record_only "$c" 0 "${CMD[@]}" "$RPORT" "$c" "$VALUE"
  cmp -s "$DRV/expected/$c.out" "$WORK/$c.rec.out" \
    || { diff "$DRV/expected/$c.out" "$WORK/$c.rec.out"; fail "$c: recorded output differs from expected/$c.out"; }
done
stop_server "$REDIS_PID" "$RPORT" Redis

for c in "${CLIENTS[@]}"; do
  client_cmd "$c"
  mock_only "$c" 0 "${CMD[@]}" "$RPORT" "$c" "$VALUE"
  same_stdout "$c"
  pass "$c: recorded against Redis with requirepass, replayed with Redis stopped: same stdout, exit 0, 0 unmatched"
done

# A key the recording never saw: reel's own Redis error reaches the client, which stops there
# (exit 1), and the call is listed as unmatched.
for c in "${CLIENTS[@]}"; do
  client_cmd "$c"
  set +e
  timeout 60 "$REEL" mock -p "$WORK/rec-$c" -- "${CMD[@]}" "$RPORT" changed "$VALUE" \
    > "$WORK/$c-miss.mock.out" 2> "$WORK/$c-miss.mock.err"
  code=$?
  set -e
  # redis-py drops the "ERR " of an error's text when it prints it
  grep -Eq "^error: (ERR )?reel: no recorded answer for SET changed:greeting$" "$WORK/$c-miss.mock.out" \
    || { cat "$WORK/$c-miss.mock.out" "$WORK/$c-miss.mock.err"; fail "$c: no reel error for an unrecorded key"; }
  [[ $code -eq 1 ]] || { cat "$WORK/$c-miss.mock.err"; fail "$c: the changed run exited $code, want 1"; }
  expect_unmatched "$c-miss" "Redis 127.0.0.1:$RPORT SET changed:greeting"
  pass "$c, unrecorded key: 'ERR reel: no recorded answer for SET changed:greeting', listed as unmatched"
done

# A changed answer shows: the recorded value changed on disk is what each client prints.
for c in "${CLIENTS[@]}"; do
  client_cmd "$c"
  changed_answer_shows "$c" "$VALUE" "${VALUE%?}Q" "${CMD[@]}" "$RPORT" "$c" "$VALUE"
done
pass "a changed recorded value ($VALUE -> ${VALUE%?}Q) shows in all 4 clients' output, and nothing else changes"

for c in "${CLIENTS[@]}"; do no_secret "$c" "$REDIS_PASSWORD"; done
pass "Redis drivers: the password is nowhere in the recordings"

echo "$CHECKS passed, 0 failed"
