#!/usr/bin/env bash
# Runs the enforcer allow-path benchmarks side by side in one run (hooked vs
# straight-to-libc in the same process, under `fnguard run`), then measures
# the resident memory the enforcer adds. Prints a table for docs/BENCHMARKS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${FNGUARD_BUILD_DIR:-$here/../build}
fnguard=$build/bin/fnguard
reps=${REPS:-5}

"$fnguard" run --policy "$here/allow_policy.yaml" --events /dev/null -- \
  "$build/bin/enforcer_bench" --benchmark_repetitions="$reps" \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 "$@"

# Resident memory: the same idle python3 with and without the enforcer.
rss_of() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
measure_rss() {
  "$@" python3 -c 'import sys,time; sys.stdout.write("r\n"); sys.stdout.flush(); time.sleep(30)' &
  local pid=$! child
  sleep 1
  child=$(pgrep -P "$pid" python3 || echo "$pid")
  rss_of "$child"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
}
base=$(measure_rss env)
prot=$(measure_rss "$fnguard" run --policy "$here/allow_policy.yaml" --events /dev/null --)
echo "RSS idle python3: baseline ${base} KiB, under fnguard ${prot} KiB, added $((prot - base)) KiB"
