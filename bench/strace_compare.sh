#!/usr/bin/env bash
# The same workload four ways, in one run: unprotected; under fnguard with
# only the in-process enforcer (FNGUARD_KERNEL=off); under fnguard with the
# kernel backstop (seccomp exec supervision + Landlock); and under a
# ptrace-based monitor, `strace -f --seccomp-bpf` tracing the same calls,
# which is how other runtime monitors for serverless containers observe a
# function. Prints the median wall time of REPS runs of each.
#
# Usage: bench/strace_compare.sh [BUILD_DIR] [ITERATIONS] [REPS]
# The workload: ITERATIONS times, exec /bin/true and open+read a file
# (execve, openat: the calls the monitors supervise).
set -euo pipefail
build=${1:-build}
iterations=${2:-200}
reps=${3:-5}
fnguard="$build/bin/fnguard"
[[ -x $fnguard ]] || { echo "strace_compare: $fnguard is not built" >&2; exit 2; }
command -v strace >/dev/null || { echo "strace_compare: strace is not installed (apt-get install strace)" >&2; exit 2; }

work=$(mktemp -d /tmp/fnguard-strace-XXXXXX)
trap 'rm -rf "$work"' EXIT
# A block-mode policy like a real one: writes only to /tmp, exec rules, exec_from_writable.
cat >"$work/policy.yaml" <<YAML
version: 1
mode: block
files:
  write:
    default: deny
    rules:
      - allow: /tmp/**
      - allow: /dev/null
process:
  exec:
    default: allow
    rules:
      - deny: {name: [nc, ncat, socat]}
  exec_from_writable: block
YAML
workload=(/bin/sh -c "i=0; while [ \$i -lt $iterations ]; do /bin/true; head -c1 /etc/hostname >/dev/null; i=\$((i+1)); done")

median_ms() {  # runs "$@" reps times, prints the median wall time in ms
  local times=()
  for _ in $(seq "$reps"); do
    local t0 t1
    t0=$(date +%s%N)
    if ! "$@" >/dev/null 2>"$work/err"; then
      echo "strace_compare: failed: $* ($(head -c 300 "$work/err"))" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (reps + 1) / 2 ))p"
}

base=$(median_ms "${workload[@]}")
preload=$(FNGUARD_KERNEL=off median_ms "$fnguard" run --policy "$work/policy.yaml" --events /dev/null -- "${workload[@]}")
kernel=$(median_ms "$fnguard" run --policy "$work/policy.yaml" --events /dev/null -- "${workload[@]}")
strace_ms=$(median_ms strace -f --seccomp-bpf -e trace=execve,openat,connect -o /dev/null -- "${workload[@]}")

per() { echo "scale=1; ($1 - $base) * 1000 / $iterations" | bc; }
echo "workload: $iterations x (exec /bin/true + open/read a file), median of $reps runs, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-44s %10s %22s\n' "configuration" "wall ms" "added per iteration us"
printf '%-44s %10s %22s\n' "unprotected" "$base" "-"
printf '%-44s %10s %22s\n' "fnguard, preload only (FNGUARD_KERNEL=off)" "$preload" "$(per "$preload")"
printf '%-44s %10s %22s\n' "fnguard, preload + kernel backstop" "$kernel" "$(per "$kernel")"
printf '%-44s %10s %22s\n' "strace -f --seccomp-bpf (ptrace monitor)" "$strace_ms" "$(per "$strace_ms")"
