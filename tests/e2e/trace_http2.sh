#!/usr/bin/env bash
# `reel trace` on real HTTP/2 peers: nghttp fetching several files on one h2c connection from
# nghttpd, h2load with 100 concurrent streams, curl with prior knowledge, curl over TLS with
# ALPN h2 (plaintext from the OpenSSL uprobes), and python grpcio unary and server-streaming
# calls. Each case asserts the exact set of exchanges seen.
source "$(dirname "$0")/lib.sh"
for tool in nghttp nghttpd h2load; do
  command -v $tool >/dev/null || fail "$tool is not installed (scripts/setup installs nghttp2-client, nghttp2-server)"
done
/usr/bin/python3 -c 'import grpc' 2>/dev/null || fail "python3-grpcio is not installed (scripts/setup)"

mkdir -p "$WORK/www"
echo "small file" > "$WORK/www/small.txt"
head -c 100000 /dev/urandom > "$WORK/www/big.bin"
printf 'x%.0s' $(seq 3000) > "$WORK/www/mid.txt"
PORT=$(free_port)
nghttpd --no-tls -d "$WORK/www" "$PORT" > "$WORK/nghttpd.log" 2>&1 &
STARTED_PIDS+=($!)
wait_port "$PORT"

# expect FILE LABEL FIELDS EXPECTED: the JSON lines' FIELDS, sorted, are exactly EXPECTED.
expect() {
  local got
  got=$(summarize_json "$1" $3 | LC_ALL=C sort)
  if [[ $got != "$4" ]]; then
    diff <(echo "$4") <(echo "$got") >&2 || true
    fail "$2: exchanges differ (expected left, seen right)"
  fi
  grep -q '"gap":true' "$1" && fail "$2: an exchange was marked as having a gap"
  return 0
}

# fields FILE KEY...: per JSON line, the values of exchange fields named KEY ("grpc.status"),
# "-" when absent (summarize_json cannot name keys that hold dots).
fields() {
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    f = json.loads(line).get("fields", {})
    print(" ".join(f.get(k, "-") for k in sys.argv[2:]))
PY
}

# A: nghttp, four requests multiplexed on one connection (and a 404).
U="http://127.0.0.1:$PORT"
"$REEL" trace --format json -o "$WORK/a.json" -- nghttp -n "$U/small.txt" "$U/big.bin" \
  "$U/mid.txt" "$U/missing" 2> "$WORK/a.log"
expect "$WORK/a.json" "nghttp" "comm protocol method target status" \
"nghttp http2 GET /big.bin 200
nghttp http2 GET /mid.txt 200
nghttp http2 GET /missing 404
nghttp http2 GET /small.txt 200"
[[ $(fields "$WORK/a.json" http2.headers_partial | sort -u) == "-" ]] || fail "nghttp: headers marked partial"
# The 404 page names nghttpd's port, so only the files' sizes are fixed.
got=$(summarize_json "$WORK/a.json" target response.body.size | grep -v missing | LC_ALL=C sort)
[[ $got == "/big.bin 100000
/mid.txt 3000
/small.txt 11" ]] || { echo "$got"; fail "nghttp: body sizes"; }
[[ $(summarize_json "$WORK/a.json" host | sort -u) == "127.0.0.1:$PORT" ]] || fail "nghttp: :authority"
streams=$(fields "$WORK/a.json" http2.stream | sort -n | tr '\n' ' ')
[[ $streams == "13 15 17 19 " ]] || fail "nghttp: stream ids $streams"
pass "nghttp: 4 streams on one h2c connection, each shown once with path, status, true size"

# B: h2load, 200 requests, 100 concurrent streams on one connection: every one exactly once.
"$REEL" trace --format json -o "$WORK/b.json" -- h2load -n 200 -c 1 -m 100 "$U/small.txt" \
  > "$WORK/h2load.out" 2> "$WORK/b.log"
grep -q "200 succeeded" "$WORK/h2load.out" || { cat "$WORK/h2load.out"; fail "h2load did not succeed"; }
got=$(summarize_json "$WORK/b.json" method target status response.body.size | sort | uniq -c | sed 's/^ *//')
[[ $got == "200 GET /small.txt 200 11" ]] || { echo "$got"; fail "h2load: exchanges differ"; }
[[ $(fields "$WORK/b.json" http2.stream | sort -u | wc -l) == 200 ]] || fail "h2load: stream ids repeat"
grep -q "lost: 0 events" "$WORK/b.log" || { cat "$WORK/b.log"; fail "h2load: events were lost"; }
grep -q '"response_missing"' "$WORK/b.json" && fail "h2load: an exchange without its response"
pass "h2load -n 200 -c 1 -m 100: 200 exchanges, each exactly once, 0 lost"

# C: curl with prior knowledge, a GET and a POST; the pretty line too.
"$REEL" trace --format json -o "$WORK/c.json" -- curl -sf --http2-prior-knowledge -o /dev/null \
  "$U/mid.txt" 2> "$WORK/c.log"
"$REEL" trace -v -- curl -s --http2-prior-knowledge -o /dev/null -d 'hello=world' \
  "$U/small.txt" > "$WORK/c.txt" 2> "$WORK/c2.log"
expect "$WORK/c.json" "curl h2c" "comm method target status response.body.size" \
  "curl GET /mid.txt 200 3000"
grep -Eq ' http2 +POST +/small.txt +[0-9]+ ' "$WORK/c.txt" || { cat "$WORK/c.txt"; fail "curl h2c: pretty line"; }
grep -q '> user-agent: curl/' "$WORK/c.txt" || { cat "$WORK/c.txt"; fail "curl h2c: -v headers"; }
grep -q 'hello=world' "$WORK/c.txt" || { cat "$WORK/c.txt"; fail "curl h2c: -v request body"; }
pass "curl --http2-prior-knowledge: exchange exact, pretty line and -v headers and body"

# D: curl over TLS with ALPN h2 against nghttpd: HTTP/2 read from OpenSSL's plaintext.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
  2> "$WORK/openssl.log" || { cat "$WORK/openssl.log"; fail "openssl req"; }
TPORT=$(free_port)
nghttpd -d "$WORK/www" "$TPORT" "$WORK/key.pem" "$WORK/cert.pem" > "$WORK/nghttpd-tls.log" 2>&1 &
STARTED_PIDS+=($!)
wait_port "$TPORT"
"$REEL" trace --format json -o "$WORK/d.json" -- curl -sf --http2 --cacert "$WORK/cert.pem" \
  -o /dev/null -o /dev/null "https://127.0.0.1:$TPORT/small.txt" "https://127.0.0.1:$TPORT/big.bin" \
  2> "$WORK/d.log"
expect "$WORK/d.json" "curl h2 over TLS" "comm protocol method target status response.body.size tls" \
"curl http2 GET /big.bin 200 100000 True
curl http2 GET /small.txt 200 11 True"
"$REEL" trace --format har -o "$WORK/d.har" -- curl -sf --http2 --cacert "$WORK/cert.pem" \
  -o /dev/null "https://127.0.0.1:$TPORT/small.txt" 2> "$WORK/d2.log"
/usr/bin/python3 - "$WORK/d.har" <<'PY' || fail "HAR of an h2 exchange"
import json, sys
e = json.load(open(sys.argv[1]))["log"]["entries"]
assert len(e) == 1 and e[0]["request"]["httpVersion"] == "HTTP/2", e
assert e[0]["response"]["status"] == 200 and e[0]["response"]["content"]["size"] == 11, e
PY
pass "curl --http2 over TLS (ALPN h2): plaintext HTTP/2 decoded, HAR httpVersion HTTP/2"

# E: python grpcio, no generated code: raw protobuf bytes both ways. A unary call, a
# server-streaming call with gzip, and a unary call answered with an error (trailers only).
cat > "$WORK/grpc_server.py" <<'PY'
import sys, grpc
from concurrent import futures

def say_hello(req, ctx):
    return b"\x0a\x05hello" + req            # {1: "hello", ...the request's fields}

def count(req, ctx):
    ctx.set_compression(grpc.Compression.Gzip)
    for i in range(1, 4):
        yield bytes([0x08, i, 0x12, 0xac, 0x02]) + b"abc" * 100   # {1: i, 2: "abcabc..."}

def fail(req, ctx):
    ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

handlers = {
    "SayHello": grpc.unary_unary_rpc_method_handler(say_hello),
    "Count": grpc.unary_stream_rpc_method_handler(count),
    "Fail": grpc.unary_unary_rpc_method_handler(fail),
}
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("demo.Greeter", handlers)])
port = server.add_insecure_port("127.0.0.1:0")
server.start()
open(sys.argv[1], "w").write(str(port))
server.wait_for_termination()
PY
cat > "$WORK/grpc_client.py" <<'PY'
import sys, grpc
with grpc.insecure_channel("127.0.0.1:" + sys.argv[1]) as ch:
    reply = ch.unary_unary("/demo.Greeter/SayHello")(b"\x10\x2a", timeout=10)
    assert reply == b"\x0a\x05hello\x10\x2a", reply
    # {1: 3, 2: 1000 x "z"}: long enough for gzip to pay, so grpc really compresses it
    req = b"\x08\x03\x12\xe8\x07" + b"z" * 1000
    got = list(ch.unary_stream("/demo.Greeter/Count")(req, timeout=10,
                                                          compression=grpc.Compression.Gzip))
    assert len(got) == 3, got
    try:
        ch.unary_unary("/demo.Greeter/Fail")(b"", timeout=10)
        sys.exit("Fail did not fail")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e
PY
/usr/bin/python3 "$WORK/grpc_server.py" "$WORK/grpc.port" &
STARTED_PIDS+=($!)
deadline=$((SECONDS + 10))
until [[ -s $WORK/grpc.port ]]; do ((SECONDS < deadline)) || fail "grpc server did not start"; sleep 0.05; done
GP=$(cat "$WORK/grpc.port")
"$REEL" trace --format json -o "$WORK/e.json" -- /usr/bin/python3 "$WORK/grpc_client.py" "$GP" \
  2> "$WORK/e.log" || { cat "$WORK/e.log"; fail "grpc client failed under reel"; }
expect "$WORK/e.json" "grpcio" "protocol method target status status_text" \
"grpc POST /demo.Greeter/Count 200 OK
grpc POST /demo.Greeter/Fail 200 NOT_FOUND
grpc POST /demo.Greeter/SayHello 200 OK"
got=$(paste -d' ' <(summarize_json "$WORK/e.json" target) \
  <(fields "$WORK/e.json" grpc.status grpc.request_messages grpc.response_messages) | LC_ALL=C sort)
[[ $got == "/demo.Greeter/Count 0 1 3
/demo.Greeter/Fail 5 1 0
/demo.Greeter/SayHello 0 1 1" ]] || { echo "$got"; fail "grpcio: grpc-status and message counts"; }
/usr/bin/python3 - "$WORK/e.json" <<'PY' || fail "grpcio: decoded messages"
import json, sys
ex = {e["target"]: e for e in map(json.loads, open(sys.argv[1]))}
f = ex["/demo.Greeter/SayHello"]["fields"]
assert f["grpc.request_decoded"] == '#1 (2 bytes)\n2: 42\n', f
assert f["grpc.response_decoded"] == '#1 (9 bytes)\n1: "hello"\n2: 42\n', f
f = ex["/demo.Greeter/Count"]["fields"]
assert f["grpc.request_decoded"].startswith('#1 (') and ', gzip)\n1: 3\n2: "' + 'z' * 1000 + '"\n' in f["grpc.request_decoded"], f
r = f["grpc.response_decoded"]
assert r.count(', gzip)') == 3 and r.count('2: "' + 'abc' * 100 + '"') == 3 and '1: 3\n' in r, f
f = ex["/demo.Greeter/Fail"]
assert f["error"] == "NOT_FOUND: no such thing", f
assert f["fields"]["grpc.trailers_only"] == "true" and f["fields"]["grpc.message"] == "no such thing", f
PY
"$REEL" trace -v -- /usr/bin/python3 "$WORK/grpc_client.py" "$GP" > "$WORK/e.txt" 2> "$WORK/e2.log"
grep -Eq ' grpc +POST +/demo.Greeter/Count .* \[msgs 1>3\]' "$WORK/e.txt" || { cat "$WORK/e.txt"; fail "grpcio: pretty line"; }
grep -q '< grpc-status: 5' "$WORK/e.txt" || { cat "$WORK/e.txt"; fail "grpcio: -v trailers"; }
pass "grpcio: unary, server-streaming (gzip both ways) and trailers-only error: method, grpc-status, message counts, protobuf decoded"

echo "$CHECKS passed, 0 failed"
