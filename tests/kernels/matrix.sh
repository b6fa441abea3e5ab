#!/bin/bash
# Runs `reel doctor` and the bpf-labelled tests under each of Debian's kernels (tests/kernels/boot.sh)
# and prints a per-kernel table.   tests/kernels/matrix.sh BUILD_DIR [KERNEL...]   (root)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: matrix.sh BUILD_DIR [5.10 6.1 6.12]}
shift
(($#)) || set -- 5.10 6.1 6.12
build=$(cd "$build" && pwd)
out=${REEL_KERNEL_OUT:-/var/cache/reel-kernels/out}
mkdir -p "$out"
rows=()
for k in "$@"; do
  start=$(date +%s)
  "$here/boot.sh" "$k" -- sh -c "
    echo '--- doctor'; '$build/reel' doctor; echo \"--- doctor rc=\$?\"
    echo '--- bpf tests'; '$build/tests/reel_bpf_tests' --gtest_brief=1 ${REEL_GTEST_FILTER:+--gtest_filter=$REEL_GTEST_FILTER} 2>&1; echo \"--- bpf rc=\$?\"
  " > "$out/$k.log" 2>&1
  secs=$(($(date +%s) - start))
  doctor=$(grep -Eo '[0-9]+ checks: [0-9]+ ok, [0-9]+ failed' "$out/$k.log" | tail -1)
  ran=$(grep -Eo '\[==========\] [0-9]+ tests? from [0-9]+ test suites? ran' "$out/$k.log" | grep -Eo '^\[==========\] [0-9]+' | grep -Eo '[0-9]+$')
  passed=$(grep -Eo '\[  PASSED  \] [0-9]+' "$out/$k.log" | grep -Eo '[0-9]+$')
  skipped=$(grep -Eo '\[  SKIPPED \] [0-9]+' "$out/$k.log" | head -1 | grep -Eo '[0-9]+$')
  failed=$(grep -Ec '^\[  FAILED  \] [A-Za-z0-9_/]+\.[A-Za-z0-9_/]+ \([0-9]+ ms\)' "$out/$k.log")
  rc=$(sed -n 's/^--- bpf rc=//p' "$out/$k.log")
  kver=$(sed -n 's/.*=== reel-guest: start //p' "$out/$k.log" | head -1)
  rows+=("$(printf '%-22s %-30s ran %-4s passed %-4s skipped %-4s failed %-4s rc %-4s %4ss' \
    "${kver:-$k (no boot)}" "${doctor:-doctor: ?}" "${ran:-?}" "${passed:-0}" "${skipped:-0}" "${failed:-0}" "${rc:-?}" "$secs")")
done
printf '%s\n' "${rows[@]}"
echo "logs: $out"
