#!/bin/sh
# A CPU profile of fnguard's cold start: lambda_bench's cold starts under a
# system-wide `perf record`, with the layer's binaries swapped for the
# build's unstripped ones so that samples have function names, then
# attributed by bench/profile_cold_start.py (see there for what it reports).
#
#   bench/profile_cold_start.sh [BUILD_DIR] [COLD_STARTS]
#
# Needs perf (Debian: linux-perf) and root (system-wide sampling). Runs on
# CPU 0 only, so that the shares add up as on a one-CPU function.
set -eu
build=${1:-build}
starts=${2:-200}
hz=20000
work=$(mktemp -d /tmp/fnguard-profile-XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v perf >/dev/null || { echo "profile_cold_start: needs perf (apt-get install linux-perf)" >&2; exit 1; }
"$build/bin/fnguard" layer build --out "$work/layer.zip" >/dev/null
mkdir "$work/opt"
(cd "$work/opt" && unzip -q ../layer.zip)
cp "$build/bin/fnguard" "$work/opt/fnguard/bin/fnguard"
cp "$build/lib/libfnguard.so" "$work/opt/fnguard/lib/libfnguard.so"
taskset -c 0 perf record -q -a -g -e cpu-clock -F "$hz" -o "$work/perf.data" -- \
  taskset -c 0 env FNGUARD_BENCH_WRAPPER="$work/opt/fnguard-wrapper" \
  "$build/bin/lambda_bench" --cold "$starts" --warm 10 >"$work/bench.txt"
perf script -i "$work/perf.data" -F comm,pid,tid,time,ip,sym,dso 2>/dev/null >"$work/samples.txt"
grep -E "added|wrapper start" "$work/bench.txt" || true
python3 "$(dirname "$0")/profile_cold_start.py" "$work/samples.txt" "$hz"
