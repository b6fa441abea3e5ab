# Sourced by the trace benchmarks: nginx on loopback driven by wrk, and the arithmetic of rounds.
# The caller sets WORK, CONNS and SECS and keeps the pids it must end in the array `pids`.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/nginx.sh"

# start_nginx PORT SERVER_BLOCK: nginx with one worker in $WORK/nginx; sets NGINX to its pid.
start_nginx() {
  local port=$1 server=$2
  nginx_conf "$WORK/nginx" 1 "  keepalive_requests 1000000;
$server"
  nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
  NGINX=$!
  pids+=("$NGINX")
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.05; done
  echo "nginx did not start on port $port (see $WORK/nginx/error.log)" >&2
  return 1
}

# run_wrk URL: one round of wrk -t1 -c$CONNS for $SECS s; prints "requests req/s".
run_wrk() {
  wrk -t1 -c"$CONNS" -d"${SECS}s" "$1" > "$WORK/wrk.out"
  awk '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {print n, r}' "$WORK/wrk.out"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, of pid $1
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
