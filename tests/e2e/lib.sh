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

# https_site PORT WORKERS [HTTP_DIRECTIVES]: an nginx config in $WORK/nginx for TLS on
# 127.0.0.1:PORT, with a self-signed certificate for 127.0.0.1 ($WORK/cert.pem, $WORK/key.pem).
# It serves $WORK/www: small.txt ("small file\n"), big.bin (300 kB: many TLS records, several
# reads) and POST /echo (201 "got it\n"). Start it with nginx -c "$WORK/nginx/nginx.conf".
https_site() {
  local port=$1 workers=$2 directives=${3:-}
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    2> "$WORK/openssl.log" || { cat "$WORK/openssl.log"; fail "openssl req"; }
  mkdir -p "$WORK/www"
  echo "small file" > "$WORK/www/small.txt"
  head -c 300000 /dev/urandom > "$WORK/www/big.bin"
  nginx_conf "$WORK/nginx" "$workers" "$directives
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    root $WORK/www;
    location = /echo { client_max_body_size 10m; return 201 \"got it\\n\"; }
  }"
}

# https_rates NAME: the shop's rates API (examples/shop/rates_api.py) over HTTPS on a free
# loopback port, with a self-signed certificate for rates.reel.test, pinned.reel.test and
# 127.0.0.1 ($WORK/up.crt, $WORK/up.key; made by the first call). Sets RATES_TLS_PORT and
# RATES_TLS_PID; its stderr goes to $WORK/NAME.log.
https_rates() {
  if [[ ! -s $WORK/up.crt ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=rates.reel.test" \
      -addext "subjectAltName=DNS:rates.reel.test,DNS:pinned.reel.test,IP:127.0.0.1" \
      -keyout "$WORK/up.key" -out "$WORK/up.crt" 2> "$WORK/openssl.log" \
      || { cat "$WORK/openssl.log"; fail "openssl req"; }
  fi
  python3 "$E2E_DIR/../../examples/shop/rates_api.py" --port 0 --port-file "$WORK/$1.port" \
    --tls "$WORK/up.crt" "$WORK/up.key" 2> "$WORK/$1.log" &
  RATES_TLS_PID=$!
  STARTED_PIDS+=($RATES_TLS_PID)
  local deadline=$((SECONDS + 10))
  until [[ -s $WORK/$1.port ]]; do ((SECONDS < deadline)) || fail "rates API ($1) did not start"; sleep 0.05; done
  RATES_TLS_PORT=$(cat "$WORK/$1.port")
}

# check_tls_exchanges FILE LABEL EXPECTED COMM ROLE [LOG]: the `reel trace --format json` FILE
# holds exactly EXPECTED ("method target status response-body-size tls" per line), every
# exchange from COMM in ROLE and none marked with a gap. LOG is shown when the set differs.
check_tls_exchanges() {
  local got
  got=$(summarize_json "$1" method target status response.body.size tls)
  if [[ $got != "$3" ]]; then
    diff <(echo "$3") <(echo "$got") >&2 || true
    [[ -n ${6:-} ]] && cat "$6" >&2
    fail "$2: exchanges differ (expected left, seen right)"
  fi
  got=$(summarize_json "$1" comm role | sort -u)
  [[ $got == "$4 $5" ]] || fail "$2: exchanges from '$got', expected '$4 $5'"
  grep -q '"gap":true' "$1" && fail "$2: an exchange was marked as having a gap"
  return 0
}
