#!/usr/bin/env bash
# `reel trace` shows HTTPS as plaintext (uprobes on OpenSSL's SSL_read/SSL_write): curl, python
# urllib and a client with OpenSSL linked statically, against an nginx TLS server; then nginx itself
# as the server (already running via --pid, and started by reel). Each case asserts the exact set
# of exchanges, marked tls, so no ciphertext leaked into the output as raw exchanges.
source "$(dirname "$0")/lib.sh"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/setup installs it)"
command -v openssl >/dev/null || fail "openssl is not installed"

PORT=$(free_port)
https_site "$PORT" 2 "  keepalive_timeout 30;"
URL=https://127.0.0.1:$PORT

curl_drive() {  # keep-alive GETs, a 404 and a POST body
  curl -sf --http1.1 --cacert "$WORK/cert.pem" -o /dev/null -o /dev/null "$URL/small.txt" "$URL/big.bin"
  curl -s --http1.1 --cacert "$WORK/cert.pem" -o /dev/null "$URL/missing"
  curl -sf --http1.1 --cacert "$WORK/cert.pem" -o /dev/null --data-binary "hello over tls" "$URL/echo"
}
CURL_EXPECTED="GET /small.txt 200 11 True
GET /big.bin 200 300000 True
GET /missing 404 153 True
POST /echo 201 7 True"

nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
STARTED_PIDS+=($NGINX)
wait_port "$PORT"

# A: curl (libcurl over libssl.so.3: no SSL_set_fd, the fd comes from the syscall inside SSL_write).
"$REEL" trace --format json -o "$WORK/a.json" -- bash -c "$(declare -f curl_drive); URL=$URL WORK=$WORK curl_drive" \
  2> "$WORK/a.log" || { cat "$WORK/a.log"; fail "reel trace curl failed"; }
check_tls_exchanges "$WORK/a.json" "curl" "$CURL_EXPECTED" curl client
grep -q "lost: 0 events" "$WORK/a.log" || { cat "$WORK/a.log"; fail "events were lost"; }
grep -q "untied 0 " "$WORK/a.log" || { cat "$WORK/a.log"; fail "SSL calls left untied"; }
pass "curl over HTTPS: 4 plaintext exchanges exact (keep-alive, 300 kB body, 404, POST)"

# B: python urllib (CPython's _ssl: SSL_set_fd, SSL_read_ex/SSL_write_ex, loaded by import).
cat > "$WORK/client.py" <<'PY'
import ssl, sys, urllib.error, urllib.request
url, cafile = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
for path in ["/small.txt", "/missing"]:
    try:
        urllib.request.urlopen(url + path, context=ctx, timeout=5).read()
    except urllib.error.HTTPError as e:
        e.read()
req = urllib.request.Request(url + "/echo", data=b"p" * 5000, method="POST")
urllib.request.urlopen(req, context=ctx, timeout=5).read()
PY
"$REEL" trace --format json -o "$WORK/b.json" -- python3 "$WORK/client.py" "$URL" "$WORK/cert.pem" \
  2> "$WORK/b.log" || { cat "$WORK/b.log"; fail "reel trace python failed"; }
check_tls_exchanges "$WORK/b.json" "python urllib" "GET /small.txt 200 11 True
GET /missing 404 153 True
POST /echo 201 7 True" python3 client
[[ $(summarize_json "$WORK/b.json" request.body.size | sed -n 3p) == 5000 ]] || fail "python: POST body size"
pass "python urllib over HTTPS: 3 plaintext exchanges exact, request body whole"

# B2: python requests (urllib3 over the same _ssl), one keep-alive session.
cat > "$WORK/requests_client.py" <<'PY'
import sys
import requests
url, cafile = sys.argv[1], sys.argv[2]
with requests.Session() as s:
    assert s.get(url + "/small.txt", verify=cafile, timeout=5).text == "small file\n"
    assert s.get(url + "/missing", verify=cafile, timeout=5).status_code == 404
    assert s.post(url + "/echo", data=b"q" * 3000, verify=cafile, timeout=5).status_code == 201
PY
"$REEL" trace --format json -o "$WORK/b2.json" -- /usr/bin/python3 "$WORK/requests_client.py" "$URL" \
  "$WORK/cert.pem" 2> "$WORK/b2.log" || { cat "$WORK/b2.log"; fail "reel trace python requests failed"; }
check_tls_exchanges "$WORK/b2.json" "python requests" "GET /small.txt 200 11 True
GET /missing 404 153 True
POST /echo 201 7 True" python3 client
[[ $(summarize_json "$WORK/b2.json" request.body.size | sed -n 3p) == 3000 ]] || fail "requests: POST body size"
pass "python requests over HTTPS (one keep-alive session): 3 plaintext exchanges exact"

# E: OpenSSL linked statically into the executable (found by its own ELF symbols).
cat > "$WORK/static_client.c" <<'C'
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char** argv) {  /* static_client PORT PATH: one HTTPS GET, no verification */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) != 0) return 1;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_connect(ssl) != 1) return 2;
  char req[256], buf[4096];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", argv[2]);
  if (SSL_write(ssl, req, (int)strlen(req)) <= 0) return 3;
  while (SSL_read(ssl, buf, sizeof buf) > 0) {}
  SSL_free(ssl);
  return 0;
}
C
LIBDIR=$(dirname "$(gcc -print-file-name=libssl.a)")
gcc -O2 -o "$WORK/static_client" "$WORK/static_client.c" "$LIBDIR/libssl.a" "$LIBDIR/libcrypto.a" -ldl -pthread \
  || fail "cannot build the static OpenSSL client (libssl-dev)"
ldd "$WORK/static_client" | grep -q libssl && fail "static_client links libssl dynamically"
"$REEL" trace --format json -o "$WORK/e.json" -- "$WORK/static_client" "$PORT" /small.txt 2> "$WORK/e.log" \
  || { cat "$WORK/e.log"; fail "reel trace static_client failed"; }
grep -q "uprobes on $WORK/static_client" "$WORK/e.log" || { cat "$WORK/e.log"; fail "no probes in the executable"; }
check_tls_exchanges "$WORK/e.json" "static OpenSSL" "GET /small.txt 200 11 True" static_client client
pass "OpenSSL linked statically into the executable: plaintext exchange exact"

# C: the server side, nginx traced via --pid (workers are children; SSL_set_fd ties the fd).
"$REEL" trace --pid "$NGINX" --format json -o "$WORK/c.json" 2> "$WORK/c.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_log "$WORK/c.log" "tracing pid"
curl_drive
sleep 0.3  # let the last responses reach the ring buffer before asking reel to stop
kill -INT "$REEL_PID"
wait "$REEL_PID" || fail "reel trace --pid exited non-zero"
check_tls_exchanges "$WORK/c.json" "nginx via --pid" "$CURL_EXPECTED" nginx server
pass "running nginx via --pid: the same 4 exchanges from the server side, as plaintext"

# D: nginx started by reel.
kill "$NGINX"; wait "$NGINX" 2>/dev/null || true
deadline=$((SECONDS + 10))
while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
  ((SECONDS < deadline)) || fail "nginx still listens"
  sleep 0.05
done
"$REEL" trace --format json -o "$WORK/d.json" -- nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
  2> "$WORK/d.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_port "$PORT"
curl_drive
sleep 0.3
kill -INT "$REEL_PID"
wait "$REEL_PID" || true
check_tls_exchanges "$WORK/d.json" "nginx started by reel" "$CURL_EXPECTED" nginx server
grep -q "lost: 0 events" "$WORK/d.log" || { cat "$WORK/d.log"; fail "events were lost"; }
pass "nginx started by reel: the same 4 exchanges, as plaintext"

echo "$CHECKS passed, 0 failed"
