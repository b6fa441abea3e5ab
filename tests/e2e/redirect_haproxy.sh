#!/usr/bin/env bash
# A stock proxy, unmodified: HAProxy in TCP mode with `server orig 0.0.0.0:0` forwards each
# connection to the address SO_ORIGINAL_DST gives it, exactly as after iptables REDIRECT.
# curl runs under `reel redirect --to HAPROXY` and must get the same bytes as without reel.
source "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null || fail "haproxy is not installed (scripts/setup installs it)"

mkdir -p "$WORK/www"
head -c 2000000 /dev/urandom > "$WORK/www/blob"
start_echo_server 127.0.0.1
PORT4=$SERVER_PORT
start_echo_server ::1
PORT6=$SERVER_PORT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HP=$(free_port)
cat > "$WORK/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:$HP
  default_backend be
backend be
  server orig 0.0.0.0:0
CFG
haproxy -f "$WORK/haproxy.cfg" -db > "$WORK/haproxy.log" 2>&1 &
STARTED_PIDS+=($!)
for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$HP) 2>/dev/null && break; sleep 0.05; done

"$REEL" redirect --to "127.0.0.1:$HP" -- \
  curl -sf -o "$WORK/via4" "http://127.0.0.1:$PORT4/blob" 2> "$WORK/log4" || { cat "$WORK/log4" "$WORK/haproxy.log"; fail "curl via haproxy (IPv4) failed"; }
cmp "$WORK/www/blob" "$WORK/via4" || fail "IPv4 bytes differ through haproxy"
grep -qE 'origdst-answered +[1-9]' "$WORK/log4" || { cat "$WORK/log4"; fail "haproxy did not ask SO_ORIGINAL_DST"; }
pass "curl -> reel redirect -> HAProxy -> server (IPv4): same bytes, HAProxy read SO_ORIGINAL_DST"

# HAProxy asks SO_ORIGINAL_DST only on IPv4 sockets (it reads IPv6 ones with getsockname), as
# after ip6tables REDIRECT; so it is given no IPv6 address and IPv6 destinations pass through.
"$REEL" redirect --to "127.0.0.1:$HP" -- \
  curl -sf -o "$WORK/direct6" "http://[::1]:$PORT6/blob" 2> "$WORK/log6" || { cat "$WORK/log6"; fail "IPv6 pass-through failed"; }
cmp "$WORK/www/blob" "$WORK/direct6" || fail "IPv6 bytes differ"
grep -qE 'bypass:no-proxy-for-family +1' "$WORK/log6" || { cat "$WORK/log6"; fail "IPv6 bypass not counted"; }
pass "with an IPv4-only proxy, IPv6 destinations pass through and are counted"

echo "$CHECKS passed, 0 failed"
