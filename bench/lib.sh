# shellcheck shell=bash
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

# Ticks the machine was busy and ticks in all, from the first line of /proc/stat (steal is time
# the hypervisor took: counted in neither).
machine_ticks() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system, of pid $1
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# tracer KIND: starts what runs beside nginx in a round of KIND (nothing for `without`); sets
# TRACER to its pid and waits until it is ready. Reads REEL, NGINX, PORT, IDLE (floor only) and
# REEL_TRACE_ARGS (split into words on purpose); KIND's stderr goes to $WORK/KIND.log.
# shellcheck disable=SC2086,SC2034,SC2153
tracer() {
  local log=$WORK/$1.log ready
  case $1 in
    without) TRACER= ; return ;;
    floor) "$REEL" trace --pid "$IDLE" -o /dev/null 2> "$log" & ready="tracing pid" ;;
    tcpdump) tcpdump -i lo -s0 -w /dev/null "port $PORT" 2> "$log" & ready="listening on" ;;
    pretty) "$REEL" trace --pid "$NGINX" -o /dev/null ${REEL_TRACE_ARGS:-} 2> "$log" & ready="tracing pid" ;;
    json) "$REEL" trace --pid "$NGINX" --format json -o /dev/null ${REEL_TRACE_ARGS:-} 2> "$log" &
      ready="tracing pid" ;;
    fallbacks) REEL_BPF_FALLBACKS=all "$REEL" trace --pid "$NGINX" -o /dev/null ${REEL_TRACE_ARGS:-} \
      2> "$log" & ready="tracing pid" ;;
  esac
  TRACER=$!
  for _ in $(seq 200); do grep -qs "$ready" "$log" && return; sleep 0.05; done
  echo "$1 did not start: $(cat "$log")" >&2
  exit 1
}
