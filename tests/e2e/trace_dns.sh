#!/usr/bin/env bash
# `reel trace` on DNS: a client queries a loopback DNS server over UDP and over TCP (with the
# 2-byte length prefix); both exchanges show the name, type and rcode.
source "$(dirname "$0")/lib.sh"

cat > "$WORK/dns_server.py" <<'PY'
import socket, struct, sys, threading
def answer(q):
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    end = 12
    while q[end] != 0: end += q[end] + 1
    question = q[12:end + 5]
    name_known = b"\x04reel\x04test\x00" in question
    rcode = 0 if name_known else 3
    an = 1 if name_known else 0
    hdr = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, an, 0, 0)
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 7]) if an else b""
    return hdr + question + rr
while True:  # one port for both: retry until a port free for UDP is also free for TCP
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("127.0.0.1", 0))
    tcp = socket.socket()
    try:
        tcp.bind(("127.0.0.1", udp.getsockname()[1])); break
    except OSError:
        udp.close(); tcp.close()
tcp.listen()
open(sys.argv[1], "w").write(str(udp.getsockname()[1]))
def serve_tcp():
    while True:
        c, _ = tcp.accept()
        n = struct.unpack(">H", c.recv(2))[0]
        a = answer(c.recv(n)); c.sendall(struct.pack(">H", len(a)) + a); c.close()
threading.Thread(target=serve_tcp, daemon=True).start()
while True:
    q, peer = udp.recvfrom(512); udp.sendto(answer(q), peer)
PY
python3 "$WORK/dns_server.py" "$WORK/dns.port" &
STARTED_PIDS+=($!)
for _ in $(seq 100); do [[ -s $WORK/dns.port ]] && break; sleep 0.05; done
DPORT=$(cat "$WORK/dns.port")

cat > "$WORK/client.py" <<PY
import socket, struct
def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for part in name.split("."): q += bytes([len(part)]) + part.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(query("reel.test", 0x1111), ("127.0.0.1", $DPORT)); u.recvfrom(512)
t = socket.create_connection(("127.0.0.1", $DPORT))
q = query("missing.test", 0x2222); t.sendall(struct.pack(">H", len(q)) + q)
n = struct.unpack(">H", t.recv(2))[0]; t.recv(n); t.close()
PY
"$REEL" trace --format json -o "$WORK/dns.json" -- python3 "$WORK/client.py" 2> "$WORK/dns.log"
got=$(summarize_json "$WORK/dns.json" protocol method target status_text)
echo "$got" | grep -q '^dns A reel.test NOERROR$' || { echo "$got"; cat "$WORK/dns.log"; fail "UDP DNS exchange"; }
echo "$got" | grep -q '^dns A missing.test NXDOMAIN$' || { echo "$got"; fail "TCP DNS exchange"; }
[[ $(wc -l < "$WORK/dns.json") -eq 2 ]] || { echo "$got"; fail "expected exactly 2 exchanges"; }
pass "DNS over UDP (NOERROR) and TCP (NXDOMAIN): name, type and rcode"

echo "$CHECKS passed, 0 failed"
