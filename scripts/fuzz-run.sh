#!/usr/bin/env bash
# Runs libFuzzer targets one after the other, niced, each for RUNS executions (or SECONDS at most),
# seeded with scripts/fuzz-seeds.py's corpus, and prints one summary line per target:
#   target executions seconds exec/s findings
# Usage: scripts/fuzz-run.sh BUILD_DIR RUNS SECONDS target...   (targets: pickle zip json ...)
# Build first:  CC=clang CXX=clang++ cmake -S . -B build-cmake/fuzz -DCONFIG_TRACKER_CORE_ONLY=ON \
#                 -DCONFIG_TRACKER_FUZZ=ON && cmake --build build-cmake/fuzz
# A crash leaves its input as BUILD_DIR/fuzz-out/<target>/crash-* (reproduce: ./fuzz_<target> FILE).
# FUZZ_NICE sets the niceness (default 10).
set -uo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "$1") runs=$2 seconds=$3; shift 3
out=$build/fuzz-out
mkdir -p "$out"
/usr/bin/python3 scripts/fuzz-seeds.py "$out/seeds"
status=0
for target in "$@"; do
  corpus=$out/$target/corpus
  mkdir -p "$corpus" "$out/seeds/$target"  # targets without fixtures start from nothing
  log=$out/$target/log.txt
  start=$(date +%s)
  (cd "$out/$target" && nice -n "${FUZZ_NICE:-10}" "$build/fuzz_$target" -runs="$runs" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 corpus "../seeds/$target" >"log.txt" 2>&1)
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  findings=$(ls "$out/$target" | grep -cE '^(crash|leak|timeout|oom)-' || true)
  echo "$target executions=${execs:-0} seconds=$elapsed exec/s=$(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) )) findings=$findings rc=$rc"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
