#!/usr/bin/env bash
# `reel trace` on real HTTP/2 peers: nghttp fetching several files on one h2c connection from
# nghttpd, h2load with 100 concurrent streams, curl with prior knowledge, curl over TLS with
# ALPN h2 (plaintext from the OpenSSL uprobes), python grpcio calls of every kind (unary,
# server-, client- and bidi-streaming, a deadline, metadata, errors), grpc-go over TLS (the Go
# crypto/tls uprobes) from both ends, nginx with http2 over TLS from both ends, a grpcio channel
# joined mid-flight, and the --status/--path filters on gRPC. Each case asserts the exact set of
# exchanges seen.
source "$(dirname "$0")/lib.sh"
for tool in nghttp nghttpd h2load nginx go; do
  command -v $tool >/dev/null || fail "$tool is not installed (scripts/setup installs nghttp2-client, nghttp2-server, nginx-light, golang-go)"
done
/usr/bin/python3 -c 'import grpc' 2>/dev/null || fail "python3-grpcio is not installed (scripts/setup)"
[[ -d /usr/share/gocode/src/google.golang.org/grpc/test/grpc_testing ]] \
  || fail "grpc-go is not installed (scripts/setup installs golang-google-grpc-dev)"

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
import sys, time, grpc
from concurrent import futures

def say_hello(req, ctx):
    return b"\x0a\x05hello" + req            # {1: "hello", ...the request's fields}

def collect(requests, ctx):                  # client-streaming: every message's fields, in order
    return b"".join(requests)

def chat(requests, ctx):                     # bidi: each message answered as {2: message}
    for m in requests:
        yield b"\x12" + bytes([len(m)]) + m

def slow(req, ctx):                          # outlives any deadline the tests give it
    time.sleep(1)
    return b""

def meta(req, ctx):                          # metadata both ways, and in the trailers
    md = dict(ctx.invocation_metadata())
    ctx.send_initial_metadata((("x-served-by", "py"),))
    ctx.set_trailing_metadata((("x-echo-id", md.get("x-request-id", "")),))
    return req

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
    "Collect": grpc.stream_unary_rpc_method_handler(collect),
    "Chat": grpc.stream_stream_rpc_method_handler(chat),
    "Slow": grpc.unary_unary_rpc_method_handler(slow),
    "Meta": grpc.unary_unary_rpc_method_handler(meta),
}
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
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

# F: python grpcio client-streaming and bidi calls (every message, in order), a call past its
# deadline, and one with metadata both ways and in the trailers (shown under -v).
cat > "$WORK/grpc_client2.py" <<'PY'
import sys, grpc
with grpc.insecure_channel("127.0.0.1:" + sys.argv[1]) as ch:
    r = ch.stream_unary("/demo.Greeter/Collect")(iter([b"\x08\x01", b"\x08\x02", b"\x08\x03"]), timeout=10)
    assert r == b"\x08\x01\x08\x02\x08\x03", r
    got = list(ch.stream_stream("/demo.Greeter/Chat")(
        iter([b"\x0a\x03one", b"\x0a\x03two", b"\x0a\x05three"]), timeout=10))
    assert got == [b"\x12\x05\x0a\x03one", b"\x12\x05\x0a\x03two", b"\x12\x07\x0a\x05three"], got
    try:
        ch.unary_unary("/demo.Greeter/Slow")(b"\x08\x01", timeout=0.3)
        sys.exit("Slow did not pass its deadline")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.DEADLINE_EXCEEDED, e
    r, call = ch.unary_unary("/demo.Greeter/Meta").with_call(
        b"\x08\x07", timeout=10, metadata=(("x-request-id", "py-42"),))
    assert r == b"\x08\x07", r
    assert ("x-served-by", "py") in call.initial_metadata(), call.initial_metadata()
    assert ("x-echo-id", "py-42") in call.trailing_metadata(), call.trailing_metadata()
PY
"$REEL" trace --format json -o "$WORK/f.json" -- /usr/bin/python3 "$WORK/grpc_client2.py" "$GP" \
  2> "$WORK/f.log" || { cat "$WORK/f.log"; fail "grpc client2 failed under reel"; }
got=$(paste -d' ' <(summarize_json "$WORK/f.json" protocol method target) \
  <(fields "$WORK/f.json" grpc.status grpc.request_messages grpc.response_messages) | LC_ALL=C sort)
[[ $got == "grpc POST /demo.Greeter/Chat 0 3 3
grpc POST /demo.Greeter/Collect 0 3 1
grpc POST /demo.Greeter/Meta 0 1 1
grpc POST /demo.Greeter/Slow 4 1 0" ]] || { echo "$got"; fail "grpcio streams: exchanges differ"; }
/usr/bin/python3 - "$WORK/f.json" <<'PY' || fail "grpcio streams: messages, bodies, deadline, metadata"
import base64, json, sys
ex = {e["target"]: e for e in map(json.loads, open(sys.argv[1]))}
def body(b): return base64.b64decode(b["base64"]) if "base64" in b else b["text"].encode()
def msgs(*ms): return b"".join(b"\0" + len(m).to_bytes(4, "big") + m for m in ms)
e = ex["/demo.Greeter/Collect"]; f = e["fields"]
assert body(e["request"]["body"]) == msgs(b"\x08\x01", b"\x08\x02", b"\x08\x03"), e["request"]
assert f["grpc.request_decoded"] == "#1 (2 bytes)\n1: 1\n#2 (2 bytes)\n1: 2\n#3 (2 bytes)\n1: 3\n", f
assert f["grpc.response_decoded"] == "#1 (6 bytes)\n1: 1\n1: 2\n1: 3\n", f
e = ex["/demo.Greeter/Chat"]; f = e["fields"]
assert body(e["request"]["body"]) == msgs(b"\x0a\x03one", b"\x0a\x03two", b"\x0a\x05three"), e["request"]
assert body(e["response"]["body"]) == msgs(b"\x12\x05\x0a\x03one", b"\x12\x05\x0a\x03two",
                                           b"\x12\x07\x0a\x05three"), e["response"]
assert f["grpc.request_decoded"] == '#1 (5 bytes)\n1: "one"\n#2 (5 bytes)\n1: "two"\n#3 (7 bytes)\n1: "three"\n', f
assert f["grpc.response_decoded"] == ('#1 (7 bytes)\n2 {\n  1: "one"\n}\n#2 (7 bytes)\n2 {\n  1: "two"\n}\n'
                                      '#3 (9 bytes)\n2 {\n  1: "three"\n}\n'), f
# Whichever side noticed the deadline first (the server's trailers, or the client's RST_STREAM).
e = ex["/demo.Greeter/Slow"]
assert e["error"].startswith("DEADLINE_EXCEEDED"), e
assert 250 <= e["latency_ms"] < 1000, e
e = ex["/demo.Greeter/Meta"]
req = [(h["name"], h["value"]) for h in e["request"]["headers"]]
resp = [(h["name"], h["value"]) for h in e["response"]["headers"]]
assert ("x-request-id", "py-42") in req, req
assert ("x-served-by", "py") in resp and ("x-echo-id", "py-42") in resp, resp
PY
"$REEL" trace -v -- /usr/bin/python3 "$WORK/grpc_client2.py" "$GP" > "$WORK/f.txt" 2> "$WORK/f2.log"
for line in '> x-request-id: py-42' '< x-served-by: py' '< x-echo-id: py-42'; do
  grep -qF -- "    $line" "$WORK/f.txt" || { cat "$WORK/f.txt"; fail "grpcio: -v does not show '$line'"; }
done
grep -Eq ' grpc +POST +/demo.Greeter/Slow +ERR DEADLINE_EXCEEDED' "$WORK/f.txt" \
  || { cat "$WORK/f.txt"; fail "grpcio: the deadline is not shown"; }
grep -Eq ' grpc +POST +/demo.Greeter/Chat .* \[msgs 3>3\]' "$WORK/f.txt" || { cat "$WORK/f.txt"; fail "grpcio: bidi line"; }
pass "grpcio: client-streaming and bidi (every message in order, bodies exact), DEADLINE_EXCEEDED, metadata and trailers under -v"

# G: grpc-go over TLS, its crypto/tls read through the Go uprobes, from the client and from the
# server: one call of each kind and an error (tests/e2e/grpc_go), built offline from Debian's
# golang-google-grpc-dev (GOPATH mode, the TestService compiled into the package).
export GOCACHE=${GOCACHE:-/tmp/reel-go-cache} GOFLAGS=-buildvcs=false HOME=${HOME:-/root}
for prog in server client; do
  (cd "$E2E_DIR/grpc_go" && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$WORK/grpc$prog" "./$prog") \
    2> "$WORK/gobuild.log" || { cat "$WORK/gobuild.log"; fail "go build grpc_go/$prog"; }
done
"$WORK/grpcserver" -cert "$WORK/cert.pem" -key "$WORK/key.pem" "$WORK/grpcgo.port" 2> "$WORK/grpcserver.log" &
GO_SERVER=$!
STARTED_PIDS+=($GO_SERVER)
deadline=$((SECONDS + 10))
until [[ -s $WORK/grpcgo.port ]]; do ((SECONDS < deadline)) || fail "the Go gRPC server did not start"; sleep 0.05; done
GOADDR=127.0.0.1:$(cat "$WORK/grpcgo.port")
cat > "$WORK/check_go.py" <<'PY'
import base64, json, sys
def body(b): return base64.b64decode(b["base64"]) if "base64" in b else b["text"].encode()
def msg(m): return b"\0" + len(m).to_bytes(4, "big") + m
ex = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for e in ex:
    by[e["target"] + ("!" if "error" in e else "")] = e
assert len(by) == 5 == len(ex), [e["target"] for e in ex]
T = "/grpc.testing.TestService/"
want = {
    "UnaryCall": ('#1 (12 bytes)\n3 {\n  2: "hello go"\n}\n', '#1 (17 bytes)\n1 {\n  2: "echo:hello go"\n}\n'),
    "StreamingInputCall": ('#1 (5 bytes)\n1 {\n  2: "a"\n}\n#2 (6 bytes)\n1 {\n  2: "bb"\n}\n'
                           '#3 (7 bytes)\n1 {\n  2: "ccc"\n}\n', '#1 (2 bytes)\n1: 6\n'),
    "StreamingOutputCall": ('#1 (8 bytes)\n2 {\n  1: 3\n}\n2 {\n  1: 5\n}\n',
                            '#1 (7 bytes)\n1 {\n  2: "aaa"\n}\n#2 (9 bytes)\n1 {\n  2: "bbbbb"\n}\n'),
    "FullDuplexCall": ('#1 (7 bytes)\n3 {\n  2: "one"\n}\n#2 (7 bytes)\n3 {\n  2: "two"\n}\n'
                       '#3 (9 bytes)\n3 {\n  2: "three"\n}\n',
                       '#1 (10 bytes)\n1 {\n  2: "re:one"\n}\n#2 (10 bytes)\n1 {\n  2: "re:two"\n}\n'
                       '#3 (12 bytes)\n1 {\n  2: "re:three"\n}\n'),
}
for name, (q, r) in want.items():
    f = by[T + name]["fields"]
    assert f["grpc.status"] == "0" and by[T + name]["status"] == 200, f
    assert f["grpc.request_decoded"] == q, (name, f["grpc.request_decoded"])
    assert f["grpc.response_decoded"] == r, (name, f["grpc.response_decoded"])
e = by[T + "UnaryCall"]
assert body(e["request"]["body"]) == msg(b"\x1a\x0a\x12\x08hello go"), e["request"]["body"]
assert body(e["response"]["body"]) == msg(b"\x0a\x0f\x12\x0decho:hello go"), e["response"]["body"]
assert {"name": "x-request-id", "value": "go-42"} in e["request"]["headers"], e["request"]["headers"]
assert {"name": "x-echo-id", "value": "go-42"} in e["response"]["headers"], e["response"]["headers"]
e = by[T + "UnaryCall!"]
assert e["error"] == "PERMISSION_DENIED: not you" and e["fields"]["grpc.status"] == "7", e
assert e["fields"]["grpc.response_messages"] == "0", e
for e in ex:
    assert (e["comm"], e["role"], e["protocol"], e["method"], e.get("tls")) == \
        (sys.argv[2], sys.argv[3], "grpc", "POST", True), e
    assert "gap" not in e and "http2.headers_partial" not in e["fields"], e
assert len({e["client"] for e in ex}) == 1, "not one connection"
PY
go_tls_ok() {  # LOG LABEL
  grep -q "lost: 0 events" "$1" || { cat "$1"; fail "$2: events were lost"; }
  grep -Eq "by Go's net.Conn [1-9][0-9]*; untied 0 " "$1" || { cat "$1"; fail "$2: Go TLS calls not tied to their socket"; }
}
"$REEL" trace --format json -o "$WORK/g.json" -- "$WORK/grpcclient" "$WORK/cert.pem" "$GOADDR" \
  > "$WORK/g.out" 2> "$WORK/g.log" || { cat "$WORK/g.log" "$WORK/g.out"; fail "reel trace grpcclient failed"; }
grep -q "uprobes on $WORK/grpcclient" "$WORK/g.log" || { cat "$WORK/g.log"; fail "no probes in the Go client"; }
go_tls_ok "$WORK/g.log" "Go gRPC client"
/usr/bin/python3 "$WORK/check_go.py" "$WORK/g.json" grpcclient client || fail "Go gRPC client: exchanges"
"$REEL" trace --pid "$GO_SERVER" --format json -o "$WORK/g2.json" 2> "$WORK/g2.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_log "$WORK/g2.log" "tracing pid"
"$WORK/grpcclient" "$WORK/cert.pem" "$GOADDR" > "$WORK/g2.out" || fail "grpcclient against the traced server"
sleep 0.3  # let the last frames reach the ring buffer before asking reel to stop
kill -INT "$REEL_PID"
wait "$REEL_PID" || true
go_tls_ok "$WORK/g2.log" "Go gRPC server"
/usr/bin/python3 "$WORK/check_go.py" "$WORK/g2.json" grpcserver server || fail "Go gRPC server: exchanges"
pass "grpc-go over TLS (Go crypto/tls uprobes), client and server side: unary, client-, server-streaming, bidi, PERMISSION_DENIED; messages, bodies, metadata exact"

# H: nginx with http2 over TLS, curl --http2 (ALPN h2): three GETs and a POST on one connection,
# from curl's side (libssl uprobes in curl) and from nginx's (libssl in nginx's worker). The POST
# goes through to the echo server (HTTP/1.1), so nginx reads the whole body before it answers.
start_echo_server 127.0.0.1
NPORT=$(free_port)
CPORT=$(free_port)
nginx_conf "$WORK/nginx" 1 "  server {
    listen 127.0.0.1:$NPORT ssl http2;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    root $WORK/www;
    location = /echo { proxy_pass http://127.0.0.1:$SERVER_PORT; }
  }
  server {
    listen 127.0.0.1:$CPORT http2;
    root $WORK/www;
  }"
nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
STARTED_PIDS+=($NGINX_PID)
wait_port "$NPORT"
NU=https://127.0.0.1:$NPORT
cat > "$WORK/curl_h2.sh" <<SH
curl -sf --http2 --cacert "$WORK/cert.pem" -o /dev/null -o /dev/null -o /dev/null "$NU/small.txt" \
  "$NU/big.bin" "$NU/mid.txt" --next --http2 --cacert "$WORK/cert.pem" -o "$WORK/echoed" \
  --data-binary 'posted over h2' "$NU/echo"
SH
check_nginx() {  # FILE LABEL EXPECTED LOG
  expect "$1" "$2" "comm role protocol method target status response.body.size tls" "$3"
  grep -q "lost: 0 events" "$4" || { cat "$4"; fail "$2: events were lost"; }
  [[ $(cat "$WORK/echoed") == "posted over h2" ]] || fail "$2: the echo server answered '$(cat "$WORK/echoed")'"
  /usr/bin/python3 - "$1" "$WORK/www" <<'PY' || fail "$2: bodies are not byte-exact"
import base64, json, sys
def body(b): return base64.b64decode(b["base64"]) if "base64" in b else b["text"].encode()
ex = [json.loads(l) for l in open(sys.argv[1])]
h2 = {e["target"]: e for e in ex if e["protocol"] == "http2"}
for name in ("small.txt", "big.bin", "mid.txt"):
    b = h2["/" + name]["response"]["body"]
    assert not b["truncated"] and body(b) == open(sys.argv[2] + "/" + name, "rb").read(), name
for e in ex:
    if e["method"] == "POST":
        assert body(e["request"]["body"]) == b"posted over h2", e["request"]
        assert body(e["response"]["body"]) == b"posted over h2", e["response"]
assert len({e["client"] for e in h2.values()}) == 1, "not one connection"
assert all(e["fields"]["http.version"] == "2" and "http2.headers_partial" not in e["fields"]
           for e in h2.values())
PY
}
"$REEL" trace --max-body 1m --format json -o "$WORK/h.json" -- bash "$WORK/curl_h2.sh" \
  2> "$WORK/h.log" || { cat "$WORK/h.log"; fail "curl --http2 against nginx failed under reel"; }
check_nginx "$WORK/h.json" "curl --http2 to nginx" \
"curl client http2 GET /big.bin 200 100000 True
curl client http2 GET /mid.txt 200 3000 True
curl client http2 GET /small.txt 200 11 True
curl client http2 POST /echo 200 14 True" "$WORK/h.log"
rm -f "$WORK/echoed"
"$REEL" trace --pid "$NGINX_PID" --max-body 1m --format json -o "$WORK/h2.json" 2> "$WORK/h2.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_log "$WORK/h2.log" "tracing pid"
bash "$WORK/curl_h2.sh" || fail "curl --http2 against the traced nginx"
sleep 0.3
kill -INT "$REEL_PID"
wait "$REEL_PID" || true
# nginx's own call to the echo server is an exchange of its too, in HTTP/1.1.
check_nginx "$WORK/h2.json" "nginx http2 (server side)" \
"nginx client http1 POST /echo 200 14 -
nginx server http2 GET /big.bin 200 100000 True
nginx server http2 GET /mid.txt 200 3000 True
nginx server http2 GET /small.txt 200 11 True
nginx server http2 POST /echo 200 14 True" "$WORK/h2.log"
pass "nginx http2 over TLS with curl --http2: 4 exchanges on one connection, from both ends, bodies byte-exact"

# nginx's cleartext http2 listener with curl --http2-prior-knowledge (h2c, no upgrade).
# (One curl each: curl 7.88 reusing the connection for a second URL ends with error 16 there.)
"$REEL" trace --format json -o "$WORK/hc.json" -- bash -c "curl -sf --http2-prior-knowledge -o /dev/null \
  http://127.0.0.1:$CPORT/small.txt && curl -sf --http2-prior-knowledge -o /dev/null \
  http://127.0.0.1:$CPORT/mid.txt" 2> "$WORK/hc.log" \
  || { cat "$WORK/hc.log"; fail "curl --http2-prior-knowledge against nginx"; }
expect "$WORK/hc.json" "curl h2c to nginx" "comm protocol method target status response.body.size tls" \
"curl http2 GET /mid.txt 200 3000 -
curl http2 GET /small.txt 200 11 -"
pass "nginx cleartext http2 with curl --http2-prior-knowledge: two GETs, sizes exact"

# I: joined mid-flight. A grpcio channel makes calls, then reel attaches to the client, then the
# channel makes more: their HPACK fields mostly name table entries made before reel came, so
# headers are partial (never guessed), gRPC is told by its framing, messages are whole.
cat > "$WORK/grpc_mid.py" <<'PY'
import os, sys, time, grpc
port, ready, go = sys.argv[1:4]
with grpc.insecure_channel("127.0.0.1:" + port) as ch:
    hello = ch.unary_unary("/demo.Greeter/SayHello")
    collect = ch.stream_unary("/demo.Greeter/Collect")
    meta = ch.unary_unary("/demo.Greeter/Meta")
    assert hello(b"\x10\x01", timeout=10) == b"\x0a\x05hello\x10\x01"
    assert collect(iter([b"\x08\x01", b"\x08\x02"]), timeout=10) == b"\x08\x01\x08\x02"
    open(ready, "w").close()
    deadline = time.time() + 20
    while not os.path.exists(go):
        if time.time() > deadline:
            sys.exit("never told to go on")
        time.sleep(0.02)
    for i in range(3):
        assert hello(bytes([0x10, 0x2a + i]), timeout=10) == b"\x0a\x05hello" + bytes([0x10, 0x2a + i])
    assert collect(iter([b"\x08\x05", b"\x08\x06", b"\x08\x07"]), timeout=10) == b"\x08\x05\x08\x06\x08\x07"
    assert meta(b"\x08\x09", timeout=10, metadata=(("x-request-id", "late"),)) == b"\x08\x09"
PY
/usr/bin/python3 "$WORK/grpc_mid.py" "$GP" "$WORK/mid.ready" "$WORK/mid.go" &
MID=$!
STARTED_PIDS+=($MID)
deadline=$((SECONDS + 10))
until [[ -e $WORK/mid.ready ]]; do ((SECONDS < deadline)) || fail "the mid-flight client did not start"; sleep 0.05; done
"$REEL" trace --pid "$MID" --format json -o "$WORK/i.json" 2> "$WORK/i.log" &
REEL_PID=$!
STARTED_PIDS+=($REEL_PID)
wait_log "$WORK/i.log" "tracing pid"
touch "$WORK/mid.go"
wait "$MID" || fail "the mid-flight client failed"
sleep 0.3
kill -INT "$REEL_PID"
wait "$REEL_PID" || true
grep -q "partial headers: 5 exchanges" "$WORK/i.log" || { cat "$WORK/i.log"; fail "mid-flight: the summary does not count 5 exchanges with partial headers"; }
/usr/bin/python3 - "$WORK/i.json" "$GP" <<'PY' || { cat "$WORK/i.json"; fail "mid-flight: exchanges"; }
import json, re, sys
ex = [json.loads(l) for l in open(sys.argv[1])]
assert len(ex) == 5, len(ex)
# What grpcio really sent and answered: anything shown must be one of these, right for its call.
true_request = {":method": "POST", ":scheme": "http", ":authority": "127.0.0.1:" + sys.argv[2],
                "content-type": "application/grpc", "te": "trailers"}
true_response = {":status": "200", "content-type": "application/grpc", "grpc-status": "0", "x-served-by": "py"}
calls = {'#1 (2 bytes)\n2: 42\n': ("/demo.Greeter/SayHello", '#1 (9 bytes)\n1: "hello"\n2: 42\n'),
         '#1 (2 bytes)\n2: 43\n': ("/demo.Greeter/SayHello", '#1 (9 bytes)\n1: "hello"\n2: 43\n'),
         '#1 (2 bytes)\n2: 44\n': ("/demo.Greeter/SayHello", '#1 (9 bytes)\n1: "hello"\n2: 44\n'),
         '#1 (2 bytes)\n1: 5\n#2 (2 bytes)\n1: 6\n#3 (2 bytes)\n1: 7\n':
             ("/demo.Greeter/Collect", '#1 (6 bytes)\n1: 5\n1: 6\n1: 7\n'),
         '#1 (2 bytes)\n1: 9\n': ("/demo.Greeter/Meta", '#1 (2 bytes)\n1: 9\n')}
seen = set()
for e in ex:
    f = e["fields"]
    assert e["protocol"] == "grpc" and e["method"] == "POST" and e["status"] == 200, e
    assert f["http2.headers_partial"] == "true" and "gap" not in e, e
    path, reply = calls[f["grpc.request_decoded"]]
    seen.add(f["grpc.request_decoded"])
    assert f["grpc.response_decoded"] == reply, e
    assert e["target"] in ("", path), e
    for h in e["request"]["headers"]:
        n, v = h["name"], h["value"]
        ok = (n == ":path" and v == path) or (n == "x-request-id" and v == "late" and path.endswith("Meta")) \
            or true_request.get(n) == v or (n == "user-agent" and v.startswith("grpc-python/")) \
            or (n == "grpc-accept-encoding") or (n == "grpc-timeout" and re.fullmatch(r"\d+[HMSmun]", v))
        assert ok, ("invented request header", h, e)
    for h in e["response"]["headers"]:
        n, v = h["name"], h["value"]
        ok = true_response.get(n) == v or n == "grpc-accept-encoding" or \
            (n == "x-echo-id" and v == "late" and path.endswith("Meta"))
        assert ok, ("invented response header", h, e)
    if "grpc.status" in f:
        assert f["grpc.status"] == "0", e
assert len(seen) == 5, seen
meta = [e for e in ex if e["target"] == "/demo.Greeter/Meta"]
assert len(meta) == 1, "the path added after the join is decoded"
assert {"name": "x-request-id", "value": "late"} in meta[0]["request"]["headers"], meta
PY
pass "grpcio channel joined mid-flight: 5 later calls, headers partial and never invented, messages exact, summary counts them"

# J: --status takes gRPC codes (by number or name) and --path matches :path.
"$REEL" trace --format json --status PERMISSION_DENIED -o "$WORK/j1.json" -- "$WORK/grpcclient" \
  "$WORK/cert.pem" "$GOADDR" > /dev/null 2> "$WORK/j1.log" || { cat "$WORK/j1.log"; fail "reel trace --status"; }
expect "$WORK/j1.json" "--status PERMISSION_DENIED" "target status_text" \
  "/grpc.testing.TestService/UnaryCall PERMISSION_DENIED"
"$REEL" trace --format json --status 7 -o "$WORK/j2.json" -- "$WORK/grpcclient" \
  "$WORK/cert.pem" "$GOADDR" > /dev/null 2> "$WORK/j2.log" || { cat "$WORK/j2.log"; fail "reel trace --status 7"; }
expect "$WORK/j2.json" "--status 7" "target status_text" "/grpc.testing.TestService/UnaryCall PERMISSION_DENIED"
"$REEL" trace --format json --status ok --path 'Streaming(In|Out)put' -o "$WORK/j3.json" -- \
  "$WORK/grpcclient" "$WORK/cert.pem" "$GOADDR" > /dev/null 2> "$WORK/j3.log" || { cat "$WORK/j3.log"; fail "reel trace --status ok --path"; }
expect "$WORK/j3.json" "--status ok --path" "target status_text" \
"/grpc.testing.TestService/StreamingInputCall OK
/grpc.testing.TestService/StreamingOutputCall OK"
"$REEL" trace --format json --status DEADLINE_EXCEEDED,5 -o "$WORK/j4.json" -- /usr/bin/python3 \
  "$WORK/grpc_client.py" "$GP" 2> "$WORK/j4.log" || { cat "$WORK/j4.log"; fail "reel trace --status DEADLINE_EXCEEDED,5"; }
"$REEL" trace --format json --status deadline_exceeded --path '^/demo\.Greeter/(Slow|Chat)$' -o "$WORK/j5.json" -- \
  /usr/bin/python3 "$WORK/grpc_client2.py" "$GP" 2> "$WORK/j5.log" || { cat "$WORK/j5.log"; fail "reel trace --status deadline_exceeded"; }
expect "$WORK/j4.json" "--status DEADLINE_EXCEEDED,5" "target" "/demo.Greeter/Fail"
expect "$WORK/j5.json" "--status deadline_exceeded --path" "target" "/demo.Greeter/Slow"
"$REEL" trace --status 17 -- true 2> "$WORK/j6.log" && fail "--status 17 was accepted"
grep -q "gRPC code" "$WORK/j6.log" || { cat "$WORK/j6.log"; fail "--status 17: the error does not say what is expected"; }
pass "--status with gRPC codes (PERMISSION_DENIED, 7, ok, DEADLINE_EXCEEDED), combined with --path on :path"

echo "$CHECKS passed, 0 failed"
