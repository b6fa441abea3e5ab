#!/bin/bash
# What tests/kernels/matrix.sh runs under each kernel, in a guest (boot.sh) and on the host:
# `reel doctor`, the bpf-labelled tests, then trace, record and test end to end (smoke.sh),
# between marker lines that matrix.sh reads.
#
#   tests/kernels/checks.sh BUILD_DIR [GTEST_FILTER]     (root)
#
# A failing check is printed, not fatal: all three always run. Exits non-zero if any failed.
set -uo pipefail

build=${1:?usage: checks.sh BUILD_DIR [GTEST_FILTER]}
filter=${2:-}

echo "--- kernel $(uname -r)"
echo "--- doctor"
"$build/reel" doctor 2>&1
echo "--- doctor rc=$?"
echo "--- bpf tests"
"$build/tests/reel_bpf_tests" ${filter:+"--gtest_filter=$filter"} 2>&1
rc=$?
echo "--- bpf rc=$rc"
echo "--- smoke"
"$(dirname "$0")/smoke.sh" "$build" 2>&1
smoke=$?
echo "--- smoke rc=$smoke"
((rc != 0)) || rc=$smoke
exit "$rc"
