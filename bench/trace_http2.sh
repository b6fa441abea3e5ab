#!/usr/bin/env bash
# Cost of `reel trace` on an HTTP/2 server at its maximum rate, and whether it sees every call.
#
# nghttpd (h2c, one thread) serves a small file on loopback; h2load drives it with REQUESTS
# requests per round on 4 connections of 10 concurrent streams each. Four kinds of round run
# interleaved, in one run:
#   A  without reel
#   C  `reel trace --pid IDLE -o /dev/null`: the programs and tracepoints on, every event of
#      nghttpd and h2load rejected at the scope check (the floor no consumer work can beat)
#   B  `reel trace --pid NGHTTPD -o /dev/null` (pretty)
#   J  the same with --format json (headers and bodies: the costliest output)
# It prints req/s per round, medians and their ratios to A, reel's CPU (share of one core), and
# for B and J the exchanges reel saw against the requests h2load completed, with the kernel's
# count of dropped events: "lost" must be 0.
# With "grpc" as third argument the same rounds run against a grpc-go server (h2c, the
# TestService of tests/e2e/grpc_go) under h2load POSTing one unary gRPC message per request.
# Usage: bench/trace_http2.sh [ROUNDS=3] [REQUESTS=300000] [grpc]
set -euo pipefail
ROUNDS=${1:-3} REQUESTS=${2:-300000} MODE=${3:-h2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REEL=${REEL:-$ROOT/build/reel}
for tool in nghttpd h2load; do
  command -v $tool >/dev/null || { echo "$tool is not installed (scripts/setup)"; exit 1; }
done
WORK=$(mktemp -d /tmp/reel-bench-h2.XXXXXX)
chmod 755 "$WORK"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
source "$ROOT/bench/lib.sh"  # cpu_ticks, median

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
H2LOAD=(h2load -n "$REQUESTS" -c 4 -m 10)
if [[ $MODE == grpc ]]; then
  export GOCACHE=${GOCACHE:-/tmp/reel-go-cache} GOFLAGS=-buildvcs=false HOME=${HOME:-/root}
  (cd "$ROOT/tests/e2e/grpc_go" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$WORK/server" ./server)
  "$WORK/server" "$WORK/port" 2> "$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 200); do [[ -s $WORK/port ]] && break; sleep 0.05; done
  PORT=$(cat "$WORK/port")
  # One gRPC message: SimpleRequest {payload {body: "hello"}} behind its 5-byte prefix.
  printf '\x00\x00\x00\x00\x09\x1a\x07\x12\x05hello' > "$WORK/request.bin"
  URL=http://127.0.0.1:$PORT/grpc.testing.TestService/UnaryCall
  H2LOAD+=(-d "$WORK/request.bin" -H 'content-type: application/grpc' -H 'te: trailers')
  WHAT="grpc-go (GOMAXPROCS=$(nproc)) UnaryCall"
else
  mkdir -p "$WORK/www"
  head -c 512 /dev/urandom | base64 > "$WORK/www/index.html"
  nghttpd --no-tls -d "$WORK/www" "$PORT" > "$WORK/server.log" 2>&1 &
  SERVER=$!
  URL=http://127.0.0.1:$PORT/index.html
  WHAT="nghttpd (1 thread) $(wc -c < "$WORK/www/index.html")-byte file"
fi
pids+=("$SERVER")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
sleep 1000000 &
IDLE=$!
pids+=("$IDLE")

# run_h2load: one round; prints "requests-completed req/s".
run_h2load() {
  "${H2LOAD[@]}" "$URL" > "$WORK/h2load.out"
  awk '/^finished in/ {r = $4} /^requests:/ {n = $8} END {print n, r}' "$WORK/h2load.out"
}

# reel_round PID FORMAT: one round with `reel trace --pid PID`; prints
# "req/s cpu% seen dropped requests".
reel_round() {
  "$REEL" trace --pid "$1" --format "$2" -o /dev/null 2> "$WORK/reel.log" &
  local reel=$! t0 t1 s0 s1 reqs rps
  pids+=("$reel")
  for _ in $(seq 200); do grep -q "tracing pid" "$WORK/reel.log" && break; sleep 0.05; done
  t0=$(cpu_ticks "$reel"); s0=$(date +%s.%N)
  read -r reqs rps < <(run_h2load)
  t1=$(cpu_ticks "$reel"); s1=$(date +%s.%N)
  sleep 0.5  # the last events drained before the stop
  kill -INT "$reel"; wait "$reel" || true
  local seen dropped
  seen=$(sed -n 's/^capture: \([0-9]*\) exchanges.*/\1/p' "$WORK/reel.log")
  dropped=$(sed -n 's/.*lost: \([0-9]*\) events.*/\1/p' "$WORK/reel.log")
  echo "$rps $(echo "($t1 - $t0) / $(getconf CLK_TCK) / ($s1 - $s0) * 100" | bc -l) $seen $dropped $reqs"
}

if [[ $MODE == grpc ]]; then
  # Every call really answered OK: grpc-status 0 in the trailers, read by reel itself.
  "$REEL" trace --pid "$SERVER" --format json -o "$WORK/check.json" 2> "$WORK/check.log" &
  CHECK=$!
  for _ in $(seq 200); do grep -q "tracing pid" "$WORK/check.log" && break; sleep 0.05; done
  h2load -n 100 -c 1 "${H2LOAD[@]:7}" "$URL" > /dev/null
  sleep 0.3; kill -INT "$CHECK"; wait "$CHECK" || true
  ok=$(grep -c '"grpc.status":"0"' "$WORK/check.json" || true)
  [[ $ok == 100 ]] || { echo "the gRPC check saw $ok of 100 calls answered OK" >&2; exit 1; }
fi

declare -a A B C J CPUB CPUJ LOST
for r in $(seq "$ROUNDS"); do
  read -r _ rps < <(run_h2load); A+=("$rps")
  read -r rps _ < <(reel_round "$IDLE" pretty); C+=("$rps")
  read -r rps cpu seen dropped reqs < <(reel_round "$SERVER" pretty)
  B+=("$rps"); CPUB+=("$cpu")
  LOST+=("pretty: h2load $reqs, reel $seen, lost $((reqs > seen ? reqs - seen : 0)), kernel dropped $dropped events")
  read -r rps cpu seen dropped reqs < <(reel_round "$SERVER" json)
  J+=("$rps"); CPUJ+=("$cpu")
  LOST+=("json:   h2load $reqs, reel $seen, lost $((reqs > seen ? reqs - seen : 0)), kernel dropped $dropped events")
  printf 'round %d: without %s, floor %s, pretty %s (reel cpu %.0f%%), json %s (reel cpu %.0f%%) req/s\n' \
    "$r" "${A[-1]}" "${C[-1]}" "${B[-1]}" "${CPUB[-1]}" "${J[-1]}" "${CPUJ[-1]}" >&2
done

ma=$(median "${A[@]}") mc=$(median "${C[@]}") mb=$(median "${B[@]}") mj=$(median "${J[@]}")
echo
echo "$WHAT, ${H2LOAD[*]:0:7} x $ROUNDS rounds each, interleaved; load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-36s %12s %8s\n' "round kind (req/s, median)" "req/s" "ratio"
printf '%-36s %12.0f %8.3f\n' "without reel" "$ma" 1
printf '%-36s %12.0f %8.3f\n' "floor (reel on an idle process)" "$mc" "$(echo "$mc / $ma" | bc -l)"
printf '%-36s %12.0f %8.3f\n' "reel trace, pretty" "$mb" "$(echo "$mb / $ma" | bc -l)"
printf '%-36s %12.0f %8.3f\n' "reel trace --format json" "$mj" "$(echo "$mj / $ma" | bc -l)"
printf '%-36s %7.0f%% / %.0f%%\n' "reel CPU pretty / json (median)" "$(median "${CPUB[@]}")" "$(median "${CPUJ[@]}")"
for l in "${LOST[@]}"; do echo "exchanges $l"; done
