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
  --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 "$@"

# Resident memory: the same idle python3 with and without the enforcer. The
# program reports its own VmRSS once it has started (so the supervisor's
# memory is not counted).
measure_rss() {
  "$@" /usr/bin/python3 -c 'import re; print(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1))'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(for i in 1 2 3 4 5; do measure_rss env; done | median)
prot=$(for i in 1 2 3 4 5; do measure_rss "$fnguard" run --policy "$here/allow_policy.yaml" --events /dev/null --; done | median)
echo "RSS of python3 at start (median of 5): baseline ${base} KiB, under fnguard ${prot} KiB, added $((prot - base)) KiB"
