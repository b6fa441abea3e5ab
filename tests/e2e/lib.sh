# Shared helpers for end-to-end tests. Source it; it sets -euo pipefail and a cleanup trap that
# ends only the processes the test started.
set -euo pipefail
REEL=${REEL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/reel}
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/reel-e2e.XXXXXX)
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

# start_echo_server HOST: starts tests/e2e/echo_server.py on HOST, port 0; sets SERVER_PORT.
start_echo_server() {
  local host=$1 portfile="$WORK/port.$RANDOM"
  python3 "$E2E_DIR/echo_server.py" "$host" "$portfile" "$WORK/www" &
  STARTED_PIDS+=($!)
  local deadline=$((SECONDS + 10))
  while [[ ! -s $portfile ]]; do
    ((SECONDS < deadline)) || fail "echo server on $host did not start"
    sleep 0.05
  done
  SERVER_PORT=$(cat "$portfile")
}
