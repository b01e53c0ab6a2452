#!/usr/bin/env python3
"""Where fnguard's cold start goes: a CPU profile of lambda_bench's cold starts.

Reads `perf script -F comm,pid,tid,time,ip,sym,dso` output of a system-wide
`perf record -g` taken while lambda_bench ran (bench/profile_cold_start.sh
does both) and attributes the samples:

- the wrapper process, per cold start, by role and time window: its main
  thread before the runtime's exec (split into glibc's start-up CPU probes,
  system calls by name, page faults and its own code), the vfork child
  before it becomes the runtime, the proxy and supervision threads after
  the exec, the main thread after the exec; its teardown (after the
  runtime's last sample) is left out;
- the runtime process: fnguard's side against the unprotected side, per
  cold start, by category (system call, page faults, library), largest
  differences first.

Sampling with perf slows this VM (each sample is a timer interrupt in the
guest), so the numbers are larger than without it: read them as shares.
"""
import collections
import re
import sys

HEAD = re.compile(r"^\s*(.*?)\s+(-?\d+)/(-?\d+)\s+([\d.]+):")
# glibc's static start-up: CPU feature and cache-size probes (cpuid), on Intel
# and on AMD (handle_amd); __libc_start_main_impl has init_cpu_features inlined
# (its own cpuid calls; gdb on a static glibc 2.36 program on an AMD EPYC VM
# counted 43 cpuid in all, 5 of them there).
CPU_PROBES = {
    "intel_check_word.constprop.0", "handle_intel.constprop.0", "handle_amd",
    "get_common_indices.constprop.0", "update_active.constprop.0",
    "get_common_cache_info.constprop.0", "get_extended_indices.constprop.0",
    "init_cpu_features.constprop.0", "init_cacheinfo", "__libc_start_main_impl",
}
TEARDOWN = {"do_exit", "do_group_exit", "exit_mmap", "__x64_sys_exit_group", "get_signal"}


def read_samples(path):
    samples, cur = [], None
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if cur:
                    samples.append(cur)
                cur = None
                continue
            if cur is None and line[0] != "\t":
                m = HEAD.match(line)
                if m:
                    cur = [m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(4)), []]
                continue
            if cur is not None:
                parts = line.strip().split(" ", 1)
                if len(parts) == 2:
                    cur[4].append(parts[1])
    if cur:
        samples.append(cur)
    return samples


def symbol(frame):
    return frame.split(" (")[0]


def category(stack, own_dso_hint):
    """A short name for where a sample was: system call, page fault, or code."""
    syscall = next((symbol(f) for f in stack if symbol(f).startswith(("__x64_sys_", "__do_sys_",
                                                                       "__arm64_sys_"))), None)
    if syscall:
        return "syscall " + re.sub(r"^__(x64|do|arm64)_sys_", "", syscall)
    if any("page_fault" in f for f in stack):
        return "page faults"
    if not stack:
        return "?"
    leaf = stack[0]
    name = symbol(leaf)
    if name in CPU_PROBES:
        return "glibc start: cpuid probes"
    dso = leaf.rsplit("(", 1)[-1].rstrip(")")
    if "kernel" in dso:
        return "kernel, other"
    if own_dso_hint in dso:
        return "fnguard code" if "fnguard::" in name or "yaml_" in name else "libc/libstdc++ in fnguard"
    return dso.split("/")[-1]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: profile_cold_start.py PERF_SCRIPT_OUTPUT SAMPLE_HZ")
    samples = read_samples(sys.argv[1])
    hz = float(sys.argv[2])
    by_pid = collections.defaultdict(list)
    for s in samples:
        by_pid[s[1]].append(s)

    def comms(pid):
        return {s[0] for s in by_pid[pid]}

    wrappers = sorted(p for p in by_pid if "fnguard-wrapper" in comms(p) and "python3" not in comms(p)
                      and any(s[2] == p for s in by_pid[p]))
    roles = collections.Counter()
    detail = collections.defaultdict(collections.Counter)
    runtime_side = {}
    starts = 0
    for w in wrappers:
        runtime = next((p for p in range(w + 1, w + 64) if p in by_pid and "python3" in comms(p)), None)
        if runtime is None:
            continue
        runtime_side[runtime] = "fnguard"
        ran = [s[3] for s in by_pid[runtime] if s[0] == "python3"]
        t_exec, t_last = min(ran), max(ran)
        starts += 1
        for s in by_pid[w] + [s for s in by_pid[runtime] if s[0] == "fnguard-wrapper"]:
            if s[0] != "fnguard-wrapper" or any(symbol(f) in TEARDOWN for f in s[4]) or s[3] > t_last:
                continue
            if s[1] == runtime:
                role = "vfork child, before the runtime's exec"
            elif s[2] == w:
                role = "main thread, " + ("before" if s[3] < t_exec else "after") + " the runtime's exec"
            else:
                role = "other threads (proxy, supervision)"
            roles[role] += 1
            detail[role][category(s[4], "fnguard")] += 1
    if starts == 0:
        sys.exit("no fnguard cold start found in the profile")
    per = lambda n, runs: n / hz * 1000.0 / runs  # noqa: E731 - ms per start
    print(f"fnguard wrapper, ms of CPU per cold start (under perf), {starts} starts:")
    for role, n in sorted(roles.items(), key=lambda kv: -kv[1]):
        print(f"  {per(n, starts):7.3f}  {role}")
        for cat, m in detail[role].most_common(8):
            print(f"  {'':7}  {per(m, starts):7.3f}  {cat}")

    for p in by_pid:
        if p in runtime_side or "python3" not in comms(p):
            continue
        c = comms(p)
        runtime_side[p] = "exec-only" if "exec_only_wrapp" in c else (
            "fnguard" if "fnguard-wrapper" in c else "unprotected")
    counts = collections.Counter(runtime_side.values())
    agg = {side: collections.Counter() for side in counts}
    for p, side in runtime_side.items():
        for s in by_pid[p]:
            if s[0] == "python3":
                agg[side][category(s[4], "libfnguard")] += 1
    if "unprotected" in counts and "fnguard" in counts:
        total = {side: sum(agg[side].values()) for side in counts}
        print("\nruntime process, ms of CPU per start (under perf): fnguard "
              f"{per(total['fnguard'], counts['fnguard']):.3f}, unprotected "
              f"{per(total['unprotected'], counts['unprotected']):.3f}; largest differences:")
        rows = []
        for cat in set(agg["fnguard"]) | set(agg["unprotected"]):
            f = per(agg["fnguard"][cat], counts["fnguard"])
            u = per(agg["unprotected"][cat], counts["unprotected"])
            rows.append((f - u, f, u, cat))
        rows.sort(key=lambda r: -abs(r[0]))
        for d, f, u, cat in rows[:14]:
            print(f"  {d:+7.3f}  ({f:.3f} vs {u:.3f})  {cat}")


if __name__ == "__main__":
    main()
