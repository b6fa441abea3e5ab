#!/usr/bin/env bash
# traffic.sh BASE_URL: a fixed sequence of requests touching every shop endpoint, one at a time.
# Against a fresh database (deps.sh start) the answers are the same on every run, apart from the
# volatile fields listed in README.md. Exits non-zero if a request cannot be made or its status is
# not the expected one.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: traffic.sh BASE_URL" >&2; exit 2; }
BASE=${1%/}
N=0

# call WANT_STATUS METHOD PATH [JSON_BODY]
call() {
  local want=$1 method=$2 path=$3 body=${4-} status out
  local args=(-sS --max-time 10 -o /dev/stdout -w '\n%{http_code}' -X "$method")
  [[ -z $body ]] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  N=$((N + 1))
  out=$(curl "${args[@]}" "$BASE$path") || { echo "traffic.sh: $method $path: curl failed" >&2; exit 1; }
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  ((${#out} <= 150)) || out="${out:0:147}..."
  printf '%2d %-4s %-32s %s %s\n' "$N" "$method" "$path" "$status" "$out"
  [[ $status == "$want" ]] || { echo "traffic.sh: $method $path: status $status, want $want" >&2; exit 1; }
}

call 200 GET  /health
call 200 GET  /products                          # cache miss: PostgreSQL, then SETEX
call 200 GET  /products                          # cache hit: Redis only
call 200 GET  /products/1
call 201 POST /products '{"name": "Milk jug", "price_cents": 1250, "stock": 3}'
call 200 GET  /products                          # the insert invalidated the cache
call 200 GET  '/products/1/price?currency=EUR'   # rates API + INCR views:1
call 200 GET  '/products/2/price?currency=GBP'
call 201 POST /orders '{"product_id": 2, "quantity": 2}'
call 409 POST /orders '{"product_id": 2, "quantity": 100}'
call 404 GET  /products/999
