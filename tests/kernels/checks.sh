#!/bin/bash
# What tests/kernels/matrix.sh runs under each kernel, in a guest (boot.sh) and on the host:
# `reel doctor`, then the bpf-labelled tests, between marker lines that matrix.sh reads.
#
#   tests/kernels/checks.sh BUILD_DIR [GTEST_FILTER]     (root)
#
# A failing check is printed, not fatal: both always run. Exits with the bpf tests' exit code.
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
exit "$rc"
