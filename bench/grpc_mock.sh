#!/usr/bin/env bash
# What a gRPC dependency served from reel's mocks costs next to the live one, same requests.
#
# The dependency is grpc-go (tests/e2e/grpc_go/server, TestService/UnaryCall; SERVER=python:
# tests/e2e/grpc_deps/dep.py, python grpcio's demo.Greeter/SayHello). h2load plays the app: it
# sends the same unary gRPC call on C connections with M streams each. Rounds alternate:
#   live: h2load -> the gRPC server;
#   mock: `reel mock -- h2load` with the server stopped: every connection is redirected to reel's
#         mock server, which answers from one recorded call (recorded once with `reel record`).
# Prints req/s per round, medians and the ratio mock/live; every call must succeed, and reel
# mock must report 0 unmatched (h2load counts a grpc-status 12 answer, HTTP 200, as a success).
# Usage: [SERVER=go|python] bench/grpc_mock.sh [ROUNDS=3] [REQUESTS=20000] [CONNECTIONS=4] [STREAMS=10]
set -euo pipefail
ROUNDS=${1:-3} N=${2:-20000} CONNS=${3:-4} STREAMS=${4:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
command -v h2load >/dev/null || { echo "h2load is not installed (scripts/setup: nghttp2-client)"; exit 1; }
WORK=$(mktemp -d /tmp/reel-bench-grpc.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
source "$ROOT/bench/lib.sh"

SERVER=${SERVER:-go}
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if [[ $SERVER == go ]]; then
  (cd "$ROOT/tests/e2e/grpc_go/server" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$WORK/go-cache" \
    go build -o "$WORK/server" .) || { echo "go build of the gRPC server failed"; exit 1; }
  # SimpleRequest{payload: {body: "alice"}}
  printf '\x00\x00\x00\x00\x09\x1a\x07\x12\x05alice' > "$WORK/body"
  METHOD=/grpc.testing.TestService/UnaryCall
else
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$WORK/k.pem" -out "$WORK/c.pem" 2>/dev/null
  printf '\x00\x00\x00\x00\x07\x0a\x05alice' > "$WORK/body"
  METHOD=/demo.Greeter/SayHello
fi
start_dep() {
  rm -f "$WORK/port"
  if [[ $SERVER == go ]]; then
    "$WORK/server" "$WORK/port" > "$WORK/dep.log" 2>&1 &
  else
    PORT=${PORT:-$(free)}
    /usr/bin/python3 "$ROOT/tests/e2e/grpc_deps/dep.py" "$PORT" "$(free)" "$WORK/c.pem" "$WORK/k.pem" > "$WORK/dep.log" 2>&1 &
    echo "$PORT" > "$WORK/port"
  fi
  DEP=$!
  pids+=("$DEP")
  for _ in $(seq 200); do
    [[ -s $WORK/port ]] && (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$WORK/port")") 2>/dev/null && break
    sleep 0.05
  done
  PORT=$(cat "$WORK/port")
  URL=http://127.0.0.1:$PORT$METHOD
}
stop_dep() { kill "$DEP"; wait "$DEP" 2>/dev/null || true; }
load() {  # N -> "succeeded req/s"
  "$@" h2load -n "$N" -c "$CONNS" -m "$STREAMS" -d "$WORK/body" -H 'content-type: application/grpc' \
    -H 'te: trailers' "$URL" > "$WORK/h2load.out" 2> "$WORK/load.err"
  awk '/^finished in/ {r = $4} /^requests:/ {s = $8} END {print s, r}' "$WORK/h2load.out"
}

start_dep
"$REEL" record -p "$WORK/rec" -- h2load -n 1 -c 1 -d "$WORK/body" -H 'content-type: application/grpc' \
  -H 'te: trailers' "$URL" > "$WORK/rec.out" 2> "$WORK/rec.err" || { cat "$WORK/rec.err"; exit 1; }
grep -q '^kind: gRPC' "$WORK/rec/test-set-0/mocks.yaml" || { cat "$WORK/rec.err"; echo "no gRPC mock recorded"; exit 1; }

declare -a LIVE MOCK
for r in $(seq "$ROUNDS"); do
  read -r ok rps < <(load); LIVE+=("$rps")
  [[ $ok -eq $N ]] || { cat "$WORK/h2load.out"; echo "live: $ok of $N succeeded"; exit 1; }
  stop_dep
  read -r ok rps < <(load "$REEL" mock -p "$WORK/rec" --); MOCK+=("$rps")
  [[ $ok -eq $N ]] || { cat "$WORK/h2load.out"; echo "mock: $ok of $N succeeded"; exit 1; }
  # h2load counts HTTP 200 as success, and an unmatched call is a 200 with grpc-status 12.
  grep -q ' 0 unmatched' "$WORK/load.err" || { cat "$WORK/load.err"; echo "mock: unmatched calls"; exit 1; }
  start_dep
  echo "round $r: live ${LIVE[-1]} req/s, mock ${MOCK[-1]} req/s"
done
l=$(median "${LIVE[@]}") m=$(median "${MOCK[@]}")
echo "gRPC unary $METHOD, h2load -n $N -c $CONNS -m $STREAMS, medians of $ROUNDS rounds:"
printf "  live %-14s %s req/s\n" "($SERVER):" "$l"
printf "  %-19s %s req/s\n" "reel mock:" "$m"
awk -v l="$l" -v m="$m" 'BEGIN {printf "  ratio mock/live:    %.2f\n", m / l}'
