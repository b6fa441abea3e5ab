#!/usr/bin/env bash
# The shop's dependencies on loopback: PostgreSQL, Redis and the rates API, each on a free port.
#
#   deps.sh start DIR   fresh PostgreSQL (DIR/pg), Redis (no persistence) and rates_api.py; returns
#                       once all three accept connections and writes DIR/env, which exports
#                       SHOP_PORT, DATABASE_URL, REDIS_URL, RATES_URL and DEPS_PIDS
#   deps.sh stop DIR    stops exactly the processes start recorded and waits for them; idempotent
#
# Logs go to DIR/{pg,redis,rates}.log. As root, PostgreSQL runs as the postgres user, so DIR must be
# reachable by it (anywhere under /tmp is).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=/usr/bin/python3  # Debian's, which has the packages scripts/setup installs
START_SECONDS=30
STOP_SECONDS=30

die() { echo "deps.sh: $*" >&2; exit 1; }
note() { echo "deps.sh: $*" >&2; }

# alive PID: the process exists and is not a zombie.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ ${stat##*) } != Z* ]]
}

# ours PID MARKER: PID is still the process start launched (its command line contains MARKER).
ours() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_ready WHAT PID LOG CMD...: polls CMD until it succeeds; fails early if PID has exited.
wait_ready() {
  local what=$1 pid=$2 log=$3 deadline=$((SECONDS + START_SECONDS))
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      tail -n 20 "$log" >&2 || true
      die "$what exited during start-up (log: $log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$log" >&2 || true
      die "$what not ready after ${START_SECONDS}s (log: $log)"
    fi
    sleep 0.1
  done
}

# initdb and postgres refuse to run as root, so root runs them as postgres. setpriv execs in
# place (no forked parent like su's), so $! of a background start is the server itself.
AS_POSTGRES=()
((EUID != 0)) || AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups --)

redis_pong() { [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]; }

start_postgres() {
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $pgbin && -x $pgbin/postgres ]] || die "PostgreSQL is not installed; run scripts/setup"
  command -v psql >/dev/null || die "psql is not installed; run scripts/setup"
  rm -rf "$DIR/pg"  # every start is a fresh, empty database: recordings are then repeatable
  if ((EUID == 0)); then
    id postgres >/dev/null 2>&1 || die "no postgres user; run scripts/setup"
    install -d -o postgres -g postgres "$DIR/pg"
    "${AS_POSTGRES[@]}" test -w "$DIR/pg" || die "the postgres user cannot write $DIR/pg; use a DIR under /tmp"
  else
    mkdir -p "$DIR/pg"
  fi
  (cd "$DIR/pg" && "${AS_POSTGRES[@]}" "$pgbin/initdb" -D data -A trust -U postgres -E UTF8 --locale=C \
    --no-sync) > "$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }

  PG_PORT=$(free_port)
  (cd "$DIR/pg" && exec "${AS_POSTGRES[@]}" "$pgbin/postgres" -D "$DIR/pg/data" -p "$PG_PORT" \
    -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off) \
    < /dev/null > "$DIR/pg.log" 2>&1 &
  local pid=$!
  echo "$pid INT $DIR/pg/data" >> "$DIR/pids"  # SIGINT: fast shutdown, even with clients connected
  wait_ready PostgreSQL "$pid" "$DIR/pg.log" \
    env PGCONNECT_TIMEOUT=2 psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -XAtqc 'select 1' postgres
}

start_redis() {
  command -v redis-server >/dev/null || die "redis-server is not installed; run scripts/setup"
  command -v redis-cli >/dev/null || die "redis-cli is not installed; run scripts/setup"
  REDIS_PORT=$(free_port)
  mkdir -p "$DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$DIR/redis" --daemonize no < /dev/null > "$DIR/redis.log" 2>&1 &
  local pid=$!
  echo "$pid TERM 127.0.0.1:$REDIS_PORT" >> "$DIR/pids"  # redis-server retitles itself to this
  wait_ready Redis "$pid" "$DIR/redis.log" redis_pong "$REDIS_PORT"
}

start_rates() {
  [[ -x $PYTHON ]] || die "$PYTHON is missing; run scripts/setup"
  rm -f "$DIR/rates.port"
  "$PYTHON" "$HERE/rates_api.py" --port 0 --port-file "$DIR/rates.port" \
    < /dev/null > "$DIR/rates.log" 2>&1 &
  local pid=$!
  echo "$pid TERM $DIR/rates.port" >> "$DIR/pids"
  wait_ready "rates API" "$pid" "$DIR/rates.log" test -s "$DIR/rates.port"
  RATES_PORT=$(cat "$DIR/rates.port")
  wait_ready "rates API" "$pid" "$DIR/rates.log" curl -sf "http://127.0.0.1:$RATES_PORT/rates/USD"
}

start() {
  if [[ -s $DIR/pids ]]; then
    while read -r pid _ marker; do
      if alive "$pid" && ours "$pid" "$marker"; then die "already started in $DIR; stop it first"; fi
    done < "$DIR/pids"
  fi
  command -v curl >/dev/null || die "curl is not installed; run scripts/setup"
  rm -f "$DIR/pids" "$DIR/env"
  trap 'note "start failed; stopping what did start"; stop' EXIT
  start_postgres
  start_redis
  start_rates
  local pids
  pids=$(cut -d' ' -f1 "$DIR/pids" | tr '\n' ' ')
  cat > "$DIR/env.tmp" <<EOF
# Written by examples/shop/deps.sh start; stop with: examples/shop/deps.sh stop $DIR
export SHOP_PORT=$(free_port)
export DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/postgres
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
export RATES_URL=http://127.0.0.1:$RATES_PORT
export DEPS_PIDS="${pids% }"
EOF
  mv "$DIR/env.tmp" "$DIR/env"
  trap - EXIT
  note "PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, rates API :$RATES_PORT; source $DIR/env"
}

stop() {
  [[ -s $DIR/pids ]] || { rm -f "$DIR/env"; return 0; }
  local waiting=() pid sig marker
  while read -r pid sig marker; do
    alive "$pid" || continue
    if ours "$pid" "$marker"; then
      kill "-$sig" "$pid" 2>/dev/null || true
      waiting+=("$pid")
    else
      note "pid $pid is no longer ours (no '$marker' in its command line); left alone"
    fi
  done < "$DIR/pids"
  local deadline=$((SECONDS + STOP_SECONDS)) killed=
  for pid in "${waiting[@]}"; do
    while alive "$pid"; do
      if ((SECONDS >= deadline)); then
        [[ -z $killed ]] || die "pid $pid survived SIGKILL"
        note "pid $pid ignored its signal for ${STOP_SECONDS}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        killed=1 deadline=$((SECONDS + 5))
      fi
      sleep 0.05
    done
  done
  rm -f "$DIR/pids" "$DIR/env"
}

[[ $# -eq 2 && ($1 == start || $1 == stop) ]] || die "usage: deps.sh start|stop DIR"
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
"$1"
