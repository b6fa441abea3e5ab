#!/bin/bash
# The kernel matrix: `reel doctor`, the bpf-labelled tests and an end-to-end trace, record and
# test (checks.sh, smoke.sh) under each of Debian's
# kernels, booted with boot.sh (qemu TCG), then on the host, then on the host again with every
# BPF fallback forced (REEL_BPF_FALLBACKS=all). Prints a table with one row per run.
#
#   tests/kernels/matrix.sh BUILD_DIR [KERNEL...]     (root; KERNEL: 5.10 6.1 6.12, the default)
#
# Exits 1 when any row failed: the guest did not boot or did not finish (every run is killed
# after REEL_KERNEL_TIMEOUT s, 300 here by default), doctor failed, a bpf test failed or crashed,
# no bpf test ran, or the smoke run failed. Each failing row's failed tests and the tail of its log are printed.
# Logs: $REEL_KERNEL_OUT (default /var/cache/reel-kernels/out): ROW.log, and for a guest
# ROW.console, its whole serial console. REEL_GTEST_FILTER narrows the bpf tests.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: matrix.sh BUILD_DIR [KERNEL...]}
shift
(($#)) || set -- 5.10 6.1 6.12
build=$(cd "$build" && pwd)
out=${REEL_KERNEL_OUT:-${REEL_KERNEL_CACHE:-/var/cache/reel-kernels}/out}
export REEL_KERNEL_TIMEOUT=${REEL_KERNEL_TIMEOUT:-300}
filter=${REEL_GTEST_FILTER:-}

for f in "$build/reel" "$build/tests/reel_bpf_tests"; do
  [[ -x $f ]] || { echo "matrix.sh: $f is missing (build it first)" >&2; exit 2; }
done
# A guest sees the host's / read-only with its own tmpfs on /tmp, /run and /var/tmp, and the
# directory boot.sh starts from (the tree's root, here) at its own path.
tree=$(cd "$here/../.." && pwd)
case "$build/" in
  "$tree"/*) ;;
  /tmp/* | /run/* | /var/tmp/*)
    echo "matrix.sh: a build under /tmp, /run or /var/tmp must be inside the tree ($tree):" \
      "the guest has its own tmpfs there" >&2
    exit 2 ;;
esac
cd "$tree"
mkdir -p "$out"

table_line() {  # table_line ROW KERNEL DOCTOR RAN PASSED FAILED SKIPPED SMOKE SECS RESULT
  printf '%-15s %-22s %-13s %4s %6s %6s %7s %-6s %5s  %s\n' "$@"
}
rows=()     # the table's rows
failing=()  # names of the rows that failed

count() {  # count REGEX FILE: lines matching
  grep -Ec "$1" "$2" || true
}

failed_tests() {  # failed_tests LOG: one name per failed test
  sed -nE 's/^\[  FAILED  \] (.*) \([0-9]+ ms\)$/\1/p' "$1"
}

died_in() {  # died_in LOG: the test that started and has no result line, the one the binary died in
  awk '/^\[ RUN      \] / {t = $4}
    /^\[ +(OK|FAILED|SKIPPED) +\] .* \([0-9]+ ms\)$/ {t = ""}
    END {print t}' "$1"
}

# score NAME LOG EXIT SECONDS: adds NAME's row; a failed row also goes to failing[].
score() {
  local name=$1 log=$2 rc=$3 secs=$4
  local release doctor_rc doctor_sum doctor=- bpf_rc ran passed failed skipped crashed
  local n ok bad='' timed_out='' result=ok p problems=()
  release=$(sed -n 's/^--- kernel //p' "$log" | head -1)
  doctor_rc=$(sed -n 's/^--- doctor rc=//p' "$log" | head -1)
  doctor_sum=$(grep -Eo '^[0-9]+ checks: [0-9]+ ok, [0-9]+ failed' "$log" | tail -1 || true)
  bpf_rc=$(sed -n 's/^--- bpf rc=//p' "$log" | head -1)
  ran=$(count '^\[ RUN      \] ' "$log")
  passed=$(count '^\[       OK \] .* \([0-9]+ ms\)$' "$log")
  failed=$(count '^\[  FAILED  \] .* \([0-9]+ ms\)$' "$log")
  skipped=$(count '^\[  SKIPPED \] .* \([0-9]+ ms\)$' "$log")
  crashed=$(died_in "$log")
  local smoke_rc smoke_steps smoke=-
  smoke_rc=$(sed -n 's/^--- smoke rc=//p' "$log" | head -1)
  smoke_steps=$(count '^ok - (trace|record|test): ' "$log")
  [[ -z $smoke_rc ]] || { [[ $smoke_rc == 0 ]] && smoke="$smoke_steps/3" || smoke=FAIL; }

  if [[ -n $doctor_sum ]]; then
    read -r n _ ok _ bad _ <<< "$doctor_sum"
    doctor="$ok ok"
    ((n - ok - bad == 0)) || doctor+=" $((n - ok - bad)) warn"
    ((bad == 0)) || doctor+=" $bad FAIL"
  elif [[ -n $doctor_rc ]]; then
    doctor="exit $doctor_rc"
  fi
  ((rc == 124 || rc == 137)) && timed_out=" (timed out after $REEL_KERNEL_TIMEOUT s)"
  if [[ -z $release ]]; then
    if [[ -n $timed_out ]]; then
      problems+=("did not boot${timed_out}")
    else  # boot.sh's last complaint says why: an unknown series, a failed download...
      problems+=("did not boot: $(grep -E '^boot\.sh: ' "$log" | tail -1 || echo "exit $rc")")
    fi
  else
    if [[ -z $doctor_rc ]]; then
      problems+=("doctor did not run")
    elif [[ -n $bad && $bad != 0 ]]; then
      problems+=("doctor: $bad checks failed")
    elif [[ $doctor_rc != 0 ]]; then
      problems+=("doctor exit $doctor_rc")
    fi
    ((failed == 0)) || problems+=("$failed tests failed")
    if [[ -n $crashed && -n $timed_out ]]; then
      problems+=("timed out after $REEL_KERNEL_TIMEOUT s in $crashed")
    elif [[ -n $crashed ]]; then
      problems+=("died in $crashed (exit ${bpf_rc:-$rc})")
    elif [[ -z $bpf_rc ]]; then
      problems+=("did not finish${timed_out:- (exit $rc)}")
    elif ((bpf_rc != 0 && failed == 0)); then
      problems+=("bpf tests exit $bpf_rc")
    fi
    [[ -z $bpf_rc ]] || ((ran > 0)) || problems+=("no bpf test ran")
    if [[ -z $smoke_rc ]]; then
      [[ -z $bpf_rc ]] || problems+=("the smoke run did not finish")
    elif [[ $smoke_rc != 0 || $smoke_steps != 3 ]]; then
      problems+=("smoke: $(grep -m1 '^FAIL: ' "$log" || echo "exit $smoke_rc")")
    fi
  fi

  if ((${#problems[@]})); then
    result="FAIL: ${problems[0]}"
    for p in "${problems[@]:1}"; do result+="; $p"; done
    failing+=("$name")
  fi
  rows+=("$(table_line "$name" "${release:--}" "$doctor" "$ran" "$passed" "$failed" \
    "$skipped" "$smoke" "$secs" "$result")")
  printf '%s\n' "${rows[-1]}"
}

# run_row NAME COMMAND...: runs COMMAND with its output in $out/NAME.log, then scores it.
run_row() {
  local name=$1 rc=0 start=$SECONDS
  shift
  echo "== kernel matrix: $name"
  "$@" > "$out/$name.log" 2>&1 || rc=$?
  score "$name" "$out/$name.log" "$rc" $((SECONDS - start))
}

started=$SECONDS
for k in "$@"; do
  rm -f "$out/$k.console"
  run_row "$k" env REEL_KERNEL_CONSOLE="$out/$k.console" \
    "$here/boot.sh" "$k" -- "$here/checks.sh" "$build" "$filter"
done
run_row host env -u REEL_BPF_FALLBACKS \
  timeout -k 10 "$REEL_KERNEL_TIMEOUT" "$here/checks.sh" "$build" "$filter"
run_row host+fallbacks env REEL_BPF_FALLBACKS=all \
  timeout -k 10 "$REEL_KERNEL_TIMEOUT" "$here/checks.sh" "$build" "$filter"

for name in "${failing[@]}"; do
  log=$out/$name.log
  echo
  echo "== $name failed"
  failed_tests "$log" | sed 's/^/  failed: /'
  died=$(died_in "$log")
  [[ -z $died ]] || echo "  died in: $died"
  echo "== the last 40 lines of $log (cut at 200 columns):"
  tail -40 "$log" | cut -c1-200 | sed 's/^/  | /'
done

echo
echo "== kernel matrix: reel doctor, the bpf tests and trace/record/test (smoke) of $build, $((SECONDS - started)) s"
table_line row kernel doctor ran passed failed skipped smoke secs result
printf '%s\n' "${rows[@]}"
echo "logs: $out"
if ((${#failing[@]})); then
  echo "kernel matrix: FAILED: ${failing[*]}"
  exit 1
fi
echo "kernel matrix: all ${#rows[@]} rows passed"
