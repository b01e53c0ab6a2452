#!/bin/bash
# Regenerates cmake/hot_symbols.txt: the functions the Lambda wrapper runs
# from exec to its first answered invocation, which the link places side by
# side at the start of the text (lld --symbol-ordering-file; see
# fnguard/cli/CMakeLists.txt). A cold start then maps that code with a dozen
# page faults instead of ~45 scattered over 2.4 MB (docs/BENCHMARKS.md).
#
#   scripts/hot_symbols.sh [BUILD_DIR [OUT]]  (default: build and
#                                             cmake/hot_symbols.txt; needs valgrind)
#
# Run it after adding or renaming a function on the wrapper's cold path (a
# stale list cost 6 page faults and ~0.08 ms of the wrapper's CPU per cold
# start: docs/BENCHMARKS.md, eighth session), on an idle machine: under
# load the slowed wrapper can time out in the profile and its error paths
# join the list. The set it finds is otherwise stable from run to run (a
# thread's exit path, or an I/O error when the run ends, appears in some
# runs); the order is not.
#
# How: callgrind runs `fnguard local invoke` on the bundled Python example
# (with the layer's policy files beside a copy of the binary, as in /opt/fnguard) and
# lists every function the wrapper process executed. Valgrind lacks
# seccomp and Landlock and has a CPU of its own, so the list is completed
# with what it cannot see: the kernel backstop's code, the SHA-256 and
# launch code, glibc's ifunc resolvers (a static binary runs all of them at
# start) and every CPU variant of the string functions it saw.
# A stale list costs speed, never correctness: names it no longer finds are
# ignored.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-cmake/hot_symbols.txt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - > "$work/event.json" <<'EOF'
import json
print(json.dumps({"version": "2.0", "rawPath": "/", "rawQueryString": "file=index.html",
                  "queryStringParameters": {"file": "index.html"}, "headers": {"host": "x"},
                  "requestContext": {"http": {"method": "GET", "path": "/"}},
                  "body": "x" * 3000, "isBase64Encoded": False}))
EOF
# As in a layer: the policy and the tree `layer build` parsed from it beside
# the binary's tree (the wrapper loads <prefix>/policy.yaml with
# <prefix>/policy.tree). The prefix is a copy of the build's binary with its
# lib/ and share/ linked in, so the build tree itself is left alone (tests
# running meanwhile must not see a policy there).
"$build/bin/fnguard" layer build --out "$work/layer.zip" > /dev/null
mkdir -p "$work/prefix/bin"
cp "$build/bin/fnguard" "$work/prefix/bin/fnguard"
ln -s "$(realpath "$build/lib")" "$work/prefix/lib"
ln -s "$(realpath "$build/share")" "$work/prefix/share"
unzip -q -o "$work/layer.zip" fnguard/policy.yaml fnguard/policy.tree -d "$work/layer"
cp "$work/layer/fnguard/policy.yaml" "$work/layer/fnguard/policy.tree" "$work/prefix/"
bin=$work/prefix/bin/fnguard
valgrind --tool=callgrind --trace-children=yes --trace-children-skip='*python*' \
  --demangle=no --callgrind-out-file="$work/cg.%p" \
  "$bin" local invoke --dir examples/lambda/python --handler app.read_file --runtime python \
  --event "$work/event.json" --events /dev/null > /dev/null 2>&1 || true
profile=$(grep -l '^cmd:.* wrapper ' "$work"/cg.* | head -1)
if [ -z "$profile" ]; then
  echo "hot_symbols: callgrind did not profile the wrapper" >&2
  exit 1
fi

nm --defined-only "$bin" | awk '{print $3}' | sort -u > "$work/all"
{
  grep -E '^c?fn=\([0-9]+\) ' "$profile" | sed -E 's/^c?fn=\([0-9]+\) //' |
    grep -v -E '^(0x|\(below)'
  for lib in fnguard/kernel/libfnguard_kernel.a fnguard/supervisor/libfnguard_supervisor.a \
             fnguard/common/libfnguard_util.a fnguard/common/libfnguard_core.a; do
    [ -f "$build/$lib" ] && nm --defined-only "$build/$lib" 2>/dev/null |
      awk '$2 ~ /^[TtWw]$/ {print $3}'
  done
  grep -E '_ifunc$' "$work/all"
  # Reached only with seccomp and Landlock at work, or natively (found by
  # `perf record -e page-faults -d` on the wrapper): libseccomp's name
  # lookup for the denylist, the supervisor thread's clock and join.
  printf '%s\n' seccomp_syscall_resolve_name arch_valid arch_def_lookup \
    arch_syscall_resolve_name x86_64_syscall_resolve_name aarch64_syscall_resolve_name \
    syscall_resolve_name in_word_set _ZNSt6chrono3_V212steady_clock3nowEv _ZNSt6thread4joinEv \
    __uselocale strerror __strerror_r __strerror_l __dcgettext __dcigettext _dl_new_object \
    _dl_lookup_symbol_x strcmp __getcwd getcwd getpgrp
} | awk '!seen[$0]++' > "$work/list"
# Every CPU variant of the string functions seen (__strlen_avx2 -> __strlen_*).
grep -E '^__[a-z0-9]+_(sse|avx|evex|erms)' "$work/list" | sed -E 's/^(__[a-z0-9]+)_.*/\1_/' |
  sort -u | while read -r base; do grep -E "^$base" "$work/all"; done \
  >> "$work/list"
awk '!seen[$0]++' "$work/list" | grep -x -F -f "$work/all" > "$out"
echo "hot_symbols: $(wc -l < "$out") functions in $out"
