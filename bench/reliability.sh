#!/usr/bin/env bash
# Reliability figures in one table: fuzzing (executions, corpus sizes, crashes of every
# scripts/fuzz target: protocol decoders, test-set YAML, reel.yaml, mock record and replay), faults
# survived (tests/e2e/faults_*.sh), hostile inputs tried and rejected (tests/e2e/hostile.sh), and what the
# capture lost meanwhile (kernel events and bytes, bytes in gaps), as reel itself reported them.
#
#   sudo bench/reliability.sh [--fuzz-seconds N] [--no-fuzz]    default 10 s per fuzz target
#
# REEL (default build/reel) is the binary the e2e scripts run. Logs: $OUT (default
# /tmp/reel-reliability), one file per step. Exits non-zero when any step failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=10
fuzz=1
while (($#)); do
  case $1 in
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    --no-fuzz) fuzz=0; shift ;;
    *) echo "usage: $0 [--fuzz-seconds N] [--no-fuzz]" >&2; exit 2 ;;
  esac
done
export REEL=${REEL:-$root/build/reel}
OUT=${OUT:-/tmp/reel-reliability}
mkdir -p "$OUT"
failed=0

echo "== fuzzing: $fuzz_seconds s per target (scripts/fuzz) =="
if ((fuzz)); then
  "$root/scripts/fuzz" -t "$fuzz_seconds" > "$OUT/fuzz.log" 2>&1 || failed=1
  grep -E '^(target|[a-z0-9_]+ +[0-9?])' "$OUT/fuzz.log"
  awk '$1 != "target" && $2 ~ /^[0-9]+$/ {e += $2; c += $4; x += $5}
       END {printf "total: %d executions, %d corpus entries, %d crashes\n", e, c, x}' "$OUT/fuzz.log"
else
  echo "skipped (--no-fuzz)"
fi

echo
echo "== faults =="
survived=0 tried=0
for t in faults_record faults_replay faults_relay; do
  start=$SECONDS
  bash "$root/tests/e2e/$t.sh" > "$OUT/$t.log" 2>&1
  code=$?
  ok=$(grep -c '^ok ' "$OUT/$t.log")
  tried=$((tried + ok + (code != 0)))
  survived=$((survived + ok))
  if ((code == 0)); then status=pass; else status="FAIL: $(grep -m1 '^FAIL' "$OUT/$t.log")"; failed=1; fi
  printf '%-15s %2d checks ok  %3d s  %s\n' "$t" "$ok" $((SECONDS - start)) "$status"
  grep -E '^ok |^# ' "$OUT/$t.log" | sed 's/^/    /'
done
echo "faults survived: $survived of $tried checks"

echo
echo "== hostile input =="
bash "$root/tests/e2e/hostile.sh" > "$OUT/hostile.log" 2>&1 || { failed=1; grep -m1 '^FAIL' "$OUT/hostile.log"; }
grep -E '^ok |^# (reel|hostile)' "$OUT/hostile.log" | grep -v '^#   ' | sed 's/^/    /'
grep -E '^# hostile:' "$OUT/hostile.log" | sed 's/^# //'

echo
echo "== capture losses reported by reel during these runs =="
cat "$OUT"/faults_*.log "$OUT/hostile.log" | /usr/bin/python3 -c '
import re, sys
events = bytes_ = gaps = runs = 0
for line in sys.stdin:
    m = re.search(r"lost: (\d+) events \((\d+) bytes\) in the kernel, (\d+) bytes in gaps", line)
    if m:
        runs += 1; events += int(m[1]); bytes_ += int(m[2]); gaps += int(m[3]); continue
    m = re.search(r"capture: (\d+) events lost, (\d+) bytes in gaps", line)
    if m:
        runs += 1; events += int(m[1]); gaps += int(m[2])
print(f"{runs} summaries: {events} kernel events lost ({bytes_} bytes), {gaps} bytes in gaps")'
exit $failed
