#!/usr/bin/env bash
# The driver matrix's HTTP scenario with curl: client_curl.sh BASE [EXTRA_PATH]
# (the same lines as every client_* here; EXTRA_PATH is one more GET, its status printed).
set -euo pipefail
base=$1 extra=${2:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
call() {  # PATH [CURL ARGS...]: prints the status; body in $tmp/body, headers in $tmp/head
  local path=$1
  shift
  curl -sS --max-time 10 -D "$tmp/head" -o "$tmp/body" -w '%{http_code}' "$@" "$base$path"
}
echo "GET /items/42 $(call /items/42) $(cat "$tmp/body")"
echo "POST /echo $(call /echo -H 'Content-Type: application/json' --data-binary '{"word": "hello", "n": 7}') $(cat "$tmp/body")"
echo "GET /missing $(call /missing) $(cat "$tmp/body")"
code=$(call /headers)
trace=$(tr -d '\r' < "$tmp/head" | sed -n 's/^[Xx]-[Rr]eel-[Tt]race: //p')
echo "GET /headers $code $(cat "$tmp/body") x-reel-trace=${trace:--}"
if [[ -n $extra ]]; then echo "GET $extra $(call "$extra")"; fi
