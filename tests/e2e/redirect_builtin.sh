#!/usr/bin/env bash
# Real, unmodified clients (curl, python) talk through `reel redirect --to builtin` to a loopback
# server and must get exactly the bytes they get without reel, and reel must say it relayed them.
source "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/www"
head -c 3000000 /dev/urandom > "$WORK/www/blob"
head -c 2000000 /dev/urandom > "$WORK/upload"

start_echo_server 127.0.0.1
PORT4=$SERVER_PORT
start_echo_server ::1
PORT6=$SERVER_PORT

# relayed LOGFILE: the run went through reel's relay (not bypassed).
relayed() {
  grep -qE 'relay: accepted +[1-9]' "$1" || { cat "$1" >&2; fail "reel did not relay: $1"; }
  grep -qE 'redirected +[1-9]' "$1" || { cat "$1" >&2; fail "nothing redirected: $1"; }
}

# curl GET over IPv4
curl -sf -o "$WORK/direct4" "http://127.0.0.1:$PORT4/blob"
"$REEL" redirect --to builtin -- curl -sf -o "$WORK/via4" "http://127.0.0.1:$PORT4/blob" 2> "$WORK/log4"
relayed "$WORK/log4"
cmp "$WORK/direct4" "$WORK/via4" || fail "curl IPv4 bytes differ through reel"
cmp "$WORK/www/blob" "$WORK/via4" || fail "curl IPv4 bytes differ from the file"
pass "curl GET 3 MB over IPv4: same bytes with and without reel"

# curl GET over IPv6
curl -sf -o "$WORK/direct6" "http://[::1]:$PORT6/blob"
"$REEL" redirect --to builtin -- curl -sf -o "$WORK/via6" "http://[::1]:$PORT6/blob" 2> "$WORK/log6"
relayed "$WORK/log6"
cmp "$WORK/direct6" "$WORK/via6" || fail "curl IPv6 bytes differ through reel"
pass "curl GET 3 MB over IPv6: same bytes with and without reel"

# curl POST (upload and echo) with keep-alive over two requests on one connection
curl -sf --data-binary @"$WORK/upload" -o "$WORK/echo_direct" "http://127.0.0.1:$PORT4/echo"
"$REEL" redirect --to builtin -- curl -sf --data-binary @"$WORK/upload" -o "$WORK/echo_via" \
  "http://127.0.0.1:$PORT4/echo" 2> "$WORK/logpost"
relayed "$WORK/logpost"
cmp "$WORK/echo_direct" "$WORK/echo_via" || fail "POST echo differs through reel"
cmp "$WORK/upload" "$WORK/echo_via" || fail "POST echo differs from the upload"
pass "curl POST 2 MB echoed: same bytes with and without reel"

# python (urllib), several connections, IPv4 and IPv6, digests compared
cat > "$WORK/client.py" <<PY
import hashlib, urllib.request
out = []
for url in ["http://127.0.0.1:$PORT4/blob", "http://[::1]:$PORT6/blob"] * 3:
    out.append(hashlib.sha256(urllib.request.urlopen(url).read()).hexdigest())
print("\n".join(out))
PY
python3 "$WORK/client.py" > "$WORK/py_direct"
"$REEL" redirect --to builtin -- python3 "$WORK/client.py" > "$WORK/py_via" 2> "$WORK/logpy"
relayed "$WORK/logpy"
grep -qE 'relay: accepted +6' "$WORK/logpy" || { cat "$WORK/logpy"; fail "expected 6 relayed connections"; }
cmp "$WORK/py_direct" "$WORK/py_via" || fail "python digests differ through reel"
[[ $(sort -u "$WORK/py_via" | wc -l) -eq 1 ]] || fail "python digests are not all the same file"
pass "python urllib 6 connections (IPv4+IPv6): same digests with and without reel"

# --events shows what happened; --json is valid JSON lines
"$REEL" redirect --to builtin --json -- curl -sf -o /dev/null "http://127.0.0.1:$PORT4/blob" \
  > "$WORK/events.json" 2>/dev/null
python3 - "$WORK/events.json" "$PORT4" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
want = "127.0.0.1:" + sys.argv[2]
assert any(e["event"] == "connect" and e["action"] == "redirected" and e["original"] == want
           and e["comm"] == "curl" for e in events), events
assert any(e["event"] == "origdst" and e["original"] == want for e in events), events
PY
pass "--json events name curl, the original destination and the relay's lookup"

echo "$CHECKS passed, 0 failed"
