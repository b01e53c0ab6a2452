// The decision itself, without any system call: first-match evaluation of a
// compiled policy (bench/allow_policy.yaml) for the subjects the enforcer
// benchmarks use. This is the enforcer's share of an allowed open or connect
// that does not depend on the kernel, so it is steady even on a busy machine.
// Also SHA-256 throughput, portable against the x86 SHA extensions side by
// side: the enforcer hashes the executable at each exec when a policy has
// `sha256` exec rules, and the wrapper hashes the policy image at start.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fnguard/common/sha256.h"
#include "fnguard/image/decide.h"
#include "fnguard/policy/policy.h"

namespace {

// The policy's compiled image; with `honeypots`, the same policy plus a
// honeypots section (a decoy file and env: its rules come first in
// files.read, so every decision passes them).
std::vector<uint8_t> compile_bench_policy(bool honeypots) {
  fnguard::policy::CompileOptions options;
  options.task_root = "/var/task";
  options.tmp = "/tmp";
  options.home = "/root";
  std::string text;
  if (FILE* f = std::fopen(FNGUARD_BENCH_POLICY, "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  if (honeypots) text += "honeypots:\n  env: true\n  files: [/tmp/.aws/credentials]\n";
  auto loaded = fnguard::policy::load_policy_text(text, FNGUARD_BENCH_POLICY, options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "decide_bench: %s\n", loaded.error().to_string().c_str());
    std::exit(1);
  }
  return loaded->image;
}

const fnguard::image::View& bench_view() {
  static std::vector<uint8_t> bytes = compile_bench_policy(false);
  static fnguard::image::View view(bytes.data(), bytes.size());
  return view;
}

const fnguard::image::View& honeypot_view() {
  static std::vector<uint8_t> bytes = compile_bench_policy(true);
  static fnguard::image::View view(bytes.data(), bytes.size());
  return view;
}

// A files.read decision for `path`, against the bench policy or (with
// `honeypots`) the same policy with honeypots configured, side by side.
void BM_DecidePath(benchmark::State& state, bool honeypots, const char* path) {
  const auto& view = honeypots ? honeypot_view() : bench_view();
  for (auto _ : state) {
    auto d = fnguard::image::decide_path(view, fnguard::image::Control::kFilesRead, path,
                                         fnguard::image::Phase::kAny);
    benchmark::DoNotOptimize(d);
  }
}

constexpr char kEtc[] = "/etc/hostname";
// Shares the decoy's /tmp/ prefix, so the honeypot rule's glob runs.
constexpr char kTmp[] = "/tmp/fnguard-bench.txt";
constexpr char kDeep[] = "/usr/lib/python3.11/encodings/__pycache__/utf_8.cpython-311.pyc";

void BM_DecideNetAllowedLoopback(benchmark::State& state) {
  const auto& view = bench_view();
  uint8_t addr[4] = {127, 0, 0, 1};
  fnguard::image::NetSubject subject;
  subject.family = AF_INET;
  subject.addr = addr;
  subject.port = 8080;
  for (auto _ : state) {
    auto d = fnguard::image::decide_net(view, fnguard::image::Control::kNetOutbound, subject,
                                        fnguard::image::Phase::kAny);
    benchmark::DoNotOptimize(d);
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_DecidePath, AllowedRead, false, kEtc);
BENCHMARK_CAPTURE(BM_DecidePath, AllowedReadWithHoneypots, true, kEtc);
BENCHMARK_CAPTURE(BM_DecidePath, TmpRead, false, kTmp);
BENCHMARK_CAPTURE(BM_DecidePath, TmpReadWithHoneypots, true, kTmp);
BENCHMARK_CAPTURE(BM_DecidePath, DeepAllowedRead, false, kDeep);
BENCHMARK(BM_DecideNetAllowedLoopback);

// arg 0: the portable code; 1: the fastest this CPU offers.
void BM_Sha256(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(1)), 'x');
  fnguard::sha256_force_portable(state.range(0) == 0);
  state.SetLabel(fnguard::sha256_implementation());
  uint8_t digest[32];
  for (auto _ : state) {
    fnguard::Sha256 h;
    h.update(data.data(), data.size());
    h.finish(digest);
    benchmark::DoNotOptimize(digest);
  }
  fnguard::sha256_force_portable(false);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}
BENCHMARK(BM_Sha256)->ArgsProduct({{0, 1}, {1815, 1 << 20}});

BENCHMARK_MAIN();
