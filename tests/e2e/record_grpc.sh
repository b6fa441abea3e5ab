#!/usr/bin/env bash
# `reel record` and `reel test` on a gRPC service: python grpcio (tests/e2e/grpc/server.py, the
# messages built with the protobuf runtime) with unary, server-streaming, client-streaming and
# bidi methods, a gzip-compressed call, an error status, a deadline the server honours and a
# metadata value it echoes; a grpcio client makes the calls, four of them at once on one
# connection. SayHello calls an HTTP dependency while its stream is open: each call's mock goes
# to the test whose stream made it, none to the session. Every call becomes a kind gRPC test
# with its messages decoded; `reel test` replays them over HTTP/2 with the dependency stopped and
# all pass; a changed build fails exactly the changed test with a diff that names the field. Plain HTTP/2 too: nghttpd recorded under nghttp and curl with prior knowledge
# becomes Http tests (proto_major 2) that `reel test` replays over h2c.
source "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null \
  || fail "python3-grpcio and python3-protobuf are not installed (scripts/setup)"
G=$E2E_DIR/grpc
PORT=$(free_port)
REC=$WORK/rec
SERVER=(/usr/bin/python3 "$G/server.py" "$PORT")
start_echo_server 127.0.0.1  # the dependency: POST echoes the body
DEP_PID=${STARTED_PIDS[-1]}
export GREETER_DEP=http://127.0.0.1:$SERVER_PORT

# --- 1. Record the service under the client's calls.
"$REEL" record -p "$REC" --app-port "$PORT" -- "${SERVER[@]}" > "$WORK/rec.out" 2> "$WORK/rec.err" &
RPID=$!
wait_port "$PORT"
/usr/bin/python3 "$G/client.py" "$PORT" > "$WORK/client.log" 2>&1 \
  || { cat "$WORK/client.log" "$WORK/rec.err"; fail "the grpc client failed against the recorded server"; }
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec.err"; fail "reel record exited $?"; }
grep -q "recorded .*test-set-0: 12 tests" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "expected 12 tests"; }
grep -q " 0 requests not recorded" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "requests not recorded"; }
grep -Eq "^test-[0-9]+ +grpc +/demo.Greeter/Fail +5 " "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "progress line of the failing call"; }
grep -q "; 0 outside any test" "$WORK/rec.err" || { cat "$WORK/rec.err"; fail "dependency calls outside any test"; }
pass "record: 12 gRPC calls (4 concurrent on one connection) recorded as 12 tests, every dependency call inside a test"

/usr/bin/python3 - "$REC/test-set-0" <<'PY' || fail "recorded gRPC tests"
import collections, glob, os, sys, yaml
tests = collections.defaultdict(list)
for f in glob.glob(os.path.join(sys.argv[1], "tests", "*.yaml")):
    d = yaml.safe_load(open(f))
    assert d["kind"] == "gRPC", (f, d["kind"])
    s = d["spec"]
    tests[s["grpcReq"]["headers"]["pseudo_headers"][":path"]].append(s)
counts = {p.rsplit("/", 1)[1]: len(v) for p, v in tests.items()}
assert counts == {"SayHello": 5, "CountUp": 1, "Collect": 1, "Chat": 1, "Compressed": 1,
                  "Fail": 1, "Deadline": 2}, counts

def one(name):
    return tests["/demo.Greeter/" + name][0]
def status(resp):
    for part in (resp.get("trailers") or {}, resp["headers"]):
        code = (part.get("ordinary_headers") or {}).get("grpc-status")
        if code is not None: return int(code)
def msgs(side):
    # Keploy's form: body, then additional_messages; `messages: []` (reel) says there was none,
    # as does a failed answer's zero-value body.
    if "messages" in side: return side["messages"]
    if side["body"] == {"compression_flag": 0, "message_length": 0, "decoded_data": ""} \
            and "trailers" in side and (status(side) or 0) > 0:
        return []
    return [side["body"]] + (side.get("additional_messages") or [])
def decoded(side):
    return [m["decoded_data"] for m in msgs(side)]

alice = [s for s in tests["/demo.Greeter/SayHello"] if "Alice" in decoded(s["grpcReq"])[0]]
assert len(alice) == 1, alice
a = alice[0]
assert a["grpcReq"]["headers"]["ordinary_headers"]["x-tenant"] == "acme", a["grpcReq"]["headers"]
assert a["grpcResp"]["headers"]["ordinary_headers"]["x-tenant-echo"] == "acme", a["grpcResp"]["headers"]
(reply,) = decoded(a["grpcResp"])
assert '"Hello Alice"' in reply and '"acme"' in reply, reply
for noise in ("header.grpc-timeout", "header.user-agent", "header.grpc-accept-encoding",
              "header.:authority"):
    assert noise in a["assertions"]["noise"], (noise, a["assertions"])
r = decoded(one("CountUp")["grpcResp"])
assert len(r) == 3 and all(f'"tick #{i}"' in m for i, m in enumerate(r, 1)), r
q = decoded(one("Collect")["grpcReq"])
assert len(q) == 3 and '"Collected a,b,c"' in decoded(one("Collect")["grpcResp"])[0], q
assert len(decoded(one("Chat")["grpcReq"])) == 2 and len(decoded(one("Chat")["grpcResp"])) == 2
c = one("Compressed")
for side in (c["grpcReq"], c["grpcResp"]):
    assert [m["compression_flag"] for m in msgs(side)] == [1], msgs(side)
    assert "compressible-" in msgs(side)[0]["decoded_data"], msgs(side)[0]
assert status(one("Fail")["grpcResp"]) == 5 and not msgs(one("Fail")["grpcResp"])
assert sorted(status(s["grpcResp"]) for s in tests["/demo.Greeter/Deadline"]) == [0, 4]
assert all(status(s["grpcResp"]) == 0 for s in tests["/demo.Greeter/SayHello"])
# Each SayHello test holds the dependency call its own stream made (calls overlapping several
# open streams may be copied to each of them: never lost, never to the session).
mocks = list(yaml.safe_load_all(open(os.path.join(sys.argv[1], "mocks.yaml"))))
held = collections.defaultdict(list)
for m in mocks:
    assert m["kind"] == "Http" and m["spec"]["metadata"]["type"] == "mocks", m["spec"]["metadata"]
    held[m["spec"]["metadata"]["reel.test"]].append(m["spec"]["req"]["body"])
names = {}
for f in glob.glob(os.path.join(sys.argv[1], "tests", "*.yaml")):
    d = yaml.safe_load(open(f))
    if d["spec"]["grpcReq"]["headers"]["pseudo_headers"][":path"].endswith("/SayHello"):
        names[d["name"]] = decoded(d["spec"]["grpcReq"])[0]
assert len(names) == 5
for test, request in names.items():
    person = next(p for p in ("Alice", "Bob", "Carol", "Dave", "Erin") if p in request)
    assert person in held[test], (test, person, held[test])
assert set(held) == set(names), (sorted(held), sorted(names))
PY
pass "YAML: kind gRPC, messages with decoded_data (streams, gzip both ways), metadata, statuses 0/4/5, gRPC noise; each SayHello holds its own dependency call"

kill "$DEP_PID"; wait "$DEP_PID" 2>/dev/null || true
if (exec 3<>"/dev/tcp/127.0.0.1/$SERVER_PORT") 2>/dev/null; then fail "the dependency still accepts"; fi

# --- 2. Replay against the same build: every test passes.
"$REEL" test -p "$REC" -- "${SERVER[@]}" > "$WORK/test1.out" 2> "$WORK/test1.err" \
  || { cat "$WORK/test1.err"; fail "reel test failed"; }
grep -q "PASSED: 12 passed, 0 failed" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "not all passed"; }
grep -q " 0 unmatched" "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "unmatched dependency calls"; }
for line in "grpc +/demo.Greeter/Fail NOT_FOUND" "grpc +/demo.Greeter/Deadline DEADLINE_EXCEEDED" \
            "grpc +/demo.Greeter/CountUp OK" "grpc +/demo.Greeter/Chat OK"; do
  grep -Eq "PASS +test-[0-9]+ +$line " "$WORK/test1.err" || { cat "$WORK/test1.err"; fail "no line '$line'"; }
done
grep -q "kind: gRPC" "$REC"/reports/test-run-0/test-set-0-report.yaml || fail "YAML report kind"
pass "reel test: 12 passed over HTTP/2 with the dependency stopped; lines read 'grpc /demo.Greeter/Fail NOT_FOUND'"

# --- 3. A changed build (SayHello answers Alice with "Hi"): exactly that test fails, the diff
# names the field.
set +e
GREETER_VARIANT=changed "$REEL" test -p "$REC" -- "${SERVER[@]}" > /dev/null 2> "$WORK/test2.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/test2.err"; fail "changed build: exit $code, want 1"; }
grep -q "FAILED: 11 passed, 1 failed" "$WORK/test2.err" || { cat "$WORK/test2.err"; fail "want 11 passed, 1 failed"; }
[[ $(grep -c "^FAIL " "$WORK/test2.err") -eq 1 ]] || { cat "$WORK/test2.err"; fail "more than one FAIL line"; }
grep -Eq "^FAIL +test-[0-9]+ +grpc +/demo.Greeter/SayHello OK " "$WORK/test2.err" \
  || { cat "$WORK/test2.err"; fail "the FAIL line is not SayHello's"; }
grep -qF 'messages.0.1: "Hello Alice" → "Hi Alice"' "$WORK/test2.err" \
  || { cat "$WORK/test2.err"; fail "the diff does not name messages.0.1"; }
pass "changed build: exit 1, only SayHello(Alice) fails: messages.0.1: \"Hello Alice\" → \"Hi Alice\""

# --- 4. Plain HTTP/2 (not gRPC): nghttpd speaks only h2, so passing means reel sent h2c.
command -v nghttpd > /dev/null && command -v nghttp > /dev/null \
  || fail "nghttpd and nghttp are not installed (scripts/setup installs nghttp2-server, nghttp2-client)"
mkdir -p "$WORK/www"
echo "small file" > "$WORK/www/small.txt"
printf '{"price":4.14,"name":"mug"}' > "$WORK/www/item.json"
HPORT=$(free_port)
H2APP=(nghttpd --no-tls -d "$WORK/www" "$HPORT")
"$REEL" record -p "$WORK/rec-h2" --app-port "$HPORT" -- "${H2APP[@]}" > /dev/null 2> "$WORK/rec-h2.err" &
RPID=$!
wait_port "$HPORT"
U=http://127.0.0.1:$HPORT
nghttp -n "$U/small.txt" "$U/item.json" "$U/missing" || fail "nghttp under recording"
curl -sSf --http2-prior-knowledge -o /dev/null -d 'x=1' "$U/small.txt" || fail "curl h2c under recording"
kill -INT "$RPID"
wait "$RPID" || { cat "$WORK/rec-h2.err"; fail "reel record (nghttpd) exited $?"; }
grep -q "recorded .*test-set-0: 4 tests" "$WORK/rec-h2.err" || { cat "$WORK/rec-h2.err"; fail "expected 4 h2 tests"; }
grep -q "proto_major: 2" "$WORK/rec-h2/test-set-0/tests/test-1.yaml" || fail "h2 test without proto_major 2"
"$REEL" test -p "$WORK/rec-h2" -- "${H2APP[@]}" > /dev/null 2> "$WORK/test-h2.err" \
  || { cat "$WORK/test-h2.err"; fail "reel test (nghttpd) failed"; }
grep -q "PASSED: 4 passed, 0 failed" "$WORK/test-h2.err" || { cat "$WORK/test-h2.err"; fail "h2: not all passed"; }
printf '{"price":4,"name":"mug"}' > "$WORK/www/item.json"
set +e
"$REEL" test -p "$WORK/rec-h2" -- "${H2APP[@]}" > /dev/null 2> "$WORK/test-h2b.err"
code=$?
set -e
[[ $code -eq 1 ]] || { cat "$WORK/test-h2b.err"; fail "h2 changed file: exit $code, want 1"; }
grep -q "FAILED: 3 passed, 1 failed" "$WORK/test-h2b.err" && grep -q "body.price (changed)" "$WORK/test-h2b.err" \
  || { cat "$WORK/test-h2b.err"; fail "h2 changed file: want only item.json failing on body.price"; }
pass "plain HTTP/2: 4 nghttpd requests (nghttp, curl) replayed over h2c and passed; a changed file fails on body.price"

echo "$CHECKS passed, 0 failed"
