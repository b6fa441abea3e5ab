# Shared helpers for end-to-end tests. Source it; it sets -euo pipefail and a cleanup trap that
# ends only the processes the test started.
set -euo pipefail
REEL=${REEL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/reel}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$E2E_DIR/../../scripts/lib/nginx.sh"
WORK=$(mktemp -d /tmp/reel-e2e.XXXXXX)
chmod 755 "$WORK"  # servers that drop privileges (nginx workers) read files here
STARTED_PIDS=()
CHECKS=0

cleanup() {
  for p in "${STARTED_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${STARTED_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { CHECKS=$((CHECKS + 1)); echo "ok $CHECKS - $*"; }

# start_echo_server HOST: starts the demo HTTP server (GET files, POST echo) on HOST, port 0;
# sets SERVER_PORT.
start_echo_server() {
  local host=$1 portfile="$WORK/port.$RANDOM"
  python3 "$E2E_DIR/../../examples/redirect-demo/server.py" "$host" "$portfile" "$WORK/www" &
  STARTED_PIDS+=($!)
  local deadline=$((SECONDS + 10))
  while [[ ! -s $portfile ]]; do
    ((SECONDS < deadline)) || fail "echo server on $host did not start"
    sleep 0.05
  done
  SERVER_PORT=$(cat "$portfile")
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: polls until 127.0.0.1:PORT accepts (10 s deadline).
wait_port() {
  local deadline=$((SECONDS + 10))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    ((SECONDS < deadline)) || fail "nothing listens on 127.0.0.1:$1"
    sleep 0.05
  done
}

# wait_log FILE PATTERN: polls until FILE contains PATTERN (10 s deadline).
wait_log() {
  local deadline=$((SECONDS + 10))
  until grep -q "$2" "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { cat "$1" >&2; fail "'$2' never appeared in $1"; }
    sleep 0.05
  done
}

# summarize_json FILE FIELDS...: one "f1 f2 ..." line per JSON line, for exact comparisons.
summarize_json() {
  python3 - "$@" <<'PY'
import json, sys
path, fields = sys.argv[1], sys.argv[2:]
for line in open(path):
    e = json.loads(line)
    out = []
    for f in fields:
        v = e
        for part in f.split("."):
            v = v.get(part, "-") if isinstance(v, dict) else "-"
        out.append(str(v))
    print(" ".join(out))
PY
}
