#!/usr/bin/env bash
# `reel trace` on real HTTP servers and clients: nginx (started by reel, and already running via
# --pid with its worker children) driven by curl and a raw pipelining client; curl against a
# chunked python server. Each case asserts the exact set of exchanges seen.
source "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup installs it)"

mkdir -p "$WORK/www"
echo "small file" > "$WORK/www/small.txt"
head -c 2097152 /dev/urandom > "$WORK/www/big.bin"    # 2 MiB
head -c 1500000 /dev/urandom > "$WORK/upload.bin"
PORT=$(free_port)
nginx_conf "$WORK/nginx" 2 "
  sendfile off;
  keepalive_timeout 30;
  server {
    listen 127.0.0.1:$PORT;
    root $WORK/www;
    location /sf/ { alias $WORK/www/; sendfile on; }
    location = /echo { client_max_body_size 10m; return 201 \"got it\\n\"; }
  }"

# The traffic every case sends: keep-alive (one curl, several URLs), HEAD, a 2 MiB body, a
# 1.5 MB chunked upload, a 404, and three pipelined requests written in one send().
drive() {
  curl -sf -o /dev/null -o /dev/null -o /dev/null "http://127.0.0.1:$PORT/small.txt" \
    "http://127.0.0.1:$PORT/big.bin" "http://127.0.0.1:$PORT/small.txt?again=1"
  curl -sfI -o /dev/null "http://127.0.0.1:$PORT/small.txt"
  curl -s -o /dev/null "http://127.0.0.1:$PORT/missing"
  curl -sf -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/upload.bin" \
    "http://127.0.0.1:$PORT/echo"
  python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = "GET /small.txt?p={} HTTP/1.1\r\nHost: pipelined\r\n\r\n"
s.sendall("".join(req.format(i) for i in range(3)).encode())
got = b""
while got.count(b"small file") < 3:
    chunk = s.recv(65536)
    if not chunk: break
    got += chunk
s.close()
PY
}

EXPECTED="GET /small.txt 200 11
GET /big.bin 200 2097152
GET /small.txt?again=1 200 11
HEAD /small.txt 200 0
GET /missing 404 153
POST /echo 201 7
GET /small.txt?p=0 200 11
GET /small.txt?p=1 200 11
GET /small.txt?p=2 200 11"

check_exchanges() {  # FILE LABEL
  local got
  got=$(summarize_json "$1" method target status response.body.size)
  if [[ $got != "$EXPECTED" ]]; then
    diff <(echo "$EXPECTED") <(echo "$got") >&2 || true
    fail "$2: exchanges differ (expected left, seen right)"
  fi
  summarize_json "$1" comm role | sort -u | grep -v '^nginx server$' && fail "$2: exchanges not from nginx's side"
  [[ $(summarize_json "$1" request.body.size | sed -n 6p) == 1500000 ]] || fail "$2: chunked upload size"
  grep -q '"gap":true' "$1" && fail "$2: an exchange was marked as having a gap"
  return 0
}

# A: nginx started by reel.
"$REEL" trace --format json -o "$WORK/a.json" -- nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
  2> "$WORK/a.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_port "$PORT"
drive
sleep 0.3  # let the last responses reach the ring buffer before asking reel to stop
kill -INT "$REEL_PID"
wait "$REEL_PID" || true
check_exchanges "$WORK/a.json" "nginx started by reel"
grep -q "lost: 0 events" "$WORK/a.log" || { cat "$WORK/a.log"; fail "events were lost"; }
pass "nginx started by reel: 9 exchanges exact (keep-alive, HEAD, 2 MiB, chunked upload, 404, pipelining)"

# B: nginx already running; --pid of the master covers its worker children.
deadline=$((SECONDS + 10))
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
  ((SECONDS < deadline)) || fail "nginx from case A still listens"
  sleep 0.05
done
nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
STARTED_PIDS+=($NGINX)
wait_port "$PORT"
"$REEL" trace --pid "$NGINX" --format json -o "$WORK/b.json" 2> "$WORK/b.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_log "$WORK/b.log" "tracing pid"
drive
sleep 0.3
kill -INT "$REEL_PID"
wait "$REEL_PID" || fail "reel trace --pid exited non-zero"
check_exchanges "$WORK/b.json" "nginx via --pid"
pass "running nginx via --pid (workers are children): the same 9 exchanges"

# C: the client side, against a server that answers in chunks.
cat > "$WORK/chunked.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in [b"alpha-", b"beta-", b"x" * 100000]:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
python3 "$WORK/chunked.py" "$WORK/chunked.port" &
STARTED_PIDS+=($!)
for _ in $(seq 100); do [[ -s $WORK/chunked.port ]] && break; sleep 0.05; done
CP=$(cat "$WORK/chunked.port")
"$REEL" trace --format json -o "$WORK/c.json" -- curl -sf -o /dev/null -o /dev/null \
  "http://127.0.0.1:$CP/one" "http://127.0.0.1:$CP/two" 2> "$WORK/c.log"
got=$(summarize_json "$WORK/c.json" comm role method target status response.body.size)
want="curl client GET /one 200 100011
curl client GET /two 200 100011"
[[ $got == "$want" ]] || { diff <(echo "$want") <(echo "$got"); fail "chunked client exchanges differ"; }
pass "curl traced as a client: chunked responses de-chunked to their true size"

echo "$CHECKS passed, 0 failed"
