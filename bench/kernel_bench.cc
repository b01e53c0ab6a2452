// Cost of the kernel backstop, measured against the unprotected calls in the
// same run. A seccomp filter and a Landlock domain cannot be removed once
// installed, so the benchmark runs in three phases in one process:
//
//   none      nothing installed (the baseline)
//   landlock  Landlock from the policy below (write, exec, signal scope)
//   seccomp   the full backstop: Landlock plus the seccomp filter (denylist
//             and exec supervision, answered by an ExecSupervisor thread in
//             this same process)
//
// Each benchmark is registered once per phase ("getppid/none",
// "getppid/seccomp", ...); the difference is the added cost:
//   getppid        a syscall the filter allows (cost per syscall)
//   open_close     open+close of a file in an allowed write directory
//   exec_refused   execve of a non-executable file: the supervisor decides
//                  and lets it continue, the kernel then fails it (EACCES);
//                  the full supervision round trip without a process start
//   fork_exec_wait fork, exec /bin/true, wait (what a subprocess costs)
//
// KERNEL_BENCH_EMPTY_FILTER=1 makes the seccomp phase load a one-instruction
// allow-all filter instead: the floor any seccomp filter costs.
//
// Start-up cost (the backstop's share of a cold start), in the none phase
// only, for the built-in default policy (monitor) and the same policy in
// block mode:
//   backstop_prepare/<policy>        Backstop::prepare and its teardown,
//                                    repeated in one process (warm)
//   backstop_prepare_cold/<policy>   the same, once in a fresh forked
//                                    process (what a cold start pays: first
//                                    touch of the code, no warm caches)
//   launch_true/none                 fork, exec /bin/true, wait
//   launch_true/<policy>             the same protected: prepare, fork, the
//                                    child installs the layers (no_new_privs,
//                                    Landlock, seccomp with a listener handed
//                                    over), its exec goes through the
//                                    supervisor, wait, teardown
//   probe_kernel/quick|full, build_filter/<policy>_template|_libseccomp:
//                                    the parts (not with KERNEL_BENCH_BASELINE,
//                                    which builds this file against an older
//                                    tree for before/after figures)
// KERNEL_BENCH_START_UP=1 runs only these.
//
// Run: build-*/bin/kernel_bench [--benchmark_repetitions=5 ...]; results
// and the exact commands are in docs/BENCHMARKS.md ("Kernel backstop").
#include <benchmark/benchmark.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "fnguard/common/self_path.h"
#include "fnguard/image/builder.h"
#include "fnguard/kernel/backstop.h"
#include "fnguard/kernel/exec_supervisor.h"
#include "fnguard/kernel/landlock.h"
#include "fnguard/kernel/probe.h"
#include "fnguard/kernel/seccomp_filter.h"
#include "fnguard/policy/policy.h"

namespace {

using namespace fnguard;

std::string g_dir;  // an allowed write directory

void bm_getppid(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(syscall(SYS_getppid));
}

void bm_open_close(benchmark::State& state) {
  std::string path = g_dir + "/bench-file";
  for (auto _ : state) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      state.SkipWithError("open failed");
      break;
    }
    close(fd);
  }
}

void bm_exec_refused(benchmark::State& state) {
  char* const argv[] = {const_cast<char*>("passwd"), nullptr};
  char* const envp[] = {nullptr};
  for (auto _ : state) {
    long rc = syscall(SYS_execve, "/etc/passwd", argv, envp);
    if (rc == 0) std::abort();  // cannot happen: /etc/passwd is not executable
  }
}

void bm_fork_exec_wait(benchmark::State& state) {
  char* const argv[] = {const_cast<char*>("true"), nullptr};
  char* const envp[] = {nullptr};
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) {
      syscall(SYS_execve, "/bin/true", argv, envp);
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("/bin/true did not run");
      break;
    }
  }
}

// The built-in default policy (monitor) and the same text in block mode.
struct StartPolicy {
  std::string name;
  std::vector<uint8_t> image;
};
std::vector<StartPolicy> g_start_policies;

bool load_start_policies() {
  policy::CompileOptions options;
  options.task_root = g_dir;
  g_start_policies.push_back({"default", policy::default_policy(options).image});
  std::string text = policy::default_policy_text();
  size_t at = text.find("mode: monitor");
  if (at == std::string::npos) return false;
  text.replace(at, std::strlen("mode: monitor"), "mode: block");
  auto block = policy::load_policy_text(text, "<bench>", options);
  if (!block) {
    std::fprintf(stderr, "kernel_bench: %s\n", block.error().to_string().c_str());
    return false;
  }
  g_start_policies.push_back({"block", block->image});
  return true;
}

kernel::BackstopOptions start_options() {
  kernel::BackstopOptions o;
  o.exec_dirs = {"/usr/bin", "/bin"};
  o.emit = [](std::string) {};
  return o;
}

image::View view_of(const StartPolicy& p) { return image::View(p.image.data(), p.image.size()); }

double now_us() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// Per-iteration wall times -> "p50_us" and "min_us" counters: on a machine
// shared with builds the mean carries every scheduling hiccup, the median of
// single starts much less. For launch_true they stop when /bin/true has been
// reaped, before the backstop's teardown (the mean includes it).
void report_spread(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["min_us"] = us.front();
}

void bm_backstop_prepare(benchmark::State& state, const StartPolicy* p) {
  for (auto _ : state) {
    auto b = kernel::Backstop::prepare(view_of(*p), start_options());
    if (!b) {
      state.SkipWithError(b.error().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(b.value().get());
  }
}


// One prepare in a fresh child process: its time comes back through a pipe.
void bm_backstop_prepare_cold(benchmark::State& state, const StartPolicy* p) {
  std::vector<double> samples;
  for (auto _ : state) {
    int fds[2];
    if (pipe(fds) != 0) {
      state.SkipWithError("pipe failed");
      break;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      double start = now_us();
      auto b = kernel::Backstop::prepare(view_of(*p), start_options());
      double took = b ? now_us() - start : -1;
      ssize_t n = write(fds[1], &took, sizeof(took));
      _exit(n == sizeof(took) ? 0 : 1);
    }
    close(fds[1]);
    double took = -1;
    ssize_t n = read(fds[0], &took, sizeof(took));
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    if (n != sizeof(took) || took < 0) {
      state.SkipWithError("prepare failed in the child");
      break;
    }
    state.SetIterationTime(took / 1e6);
    samples.push_back(took);
  }
  report_spread(state, samples);
}

// fork, [install the backstop], exec /bin/true, wait: what starting the
// function's runtime costs with and without the kernel layers.
void bm_launch_true(benchmark::State& state, const StartPolicy* p) {
  char* const argv[] = {const_cast<char*>("true"), nullptr};
  char* const envp[] = {nullptr};
  std::vector<double> samples;
  for (auto _ : state) {
    const double start = now_us();
    std::unique_ptr<kernel::Backstop> backstop;
    if (p != nullptr) {
      auto b = kernel::Backstop::prepare(view_of(*p), start_options());
      if (!b) {
        state.SkipWithError(b.error().to_string().c_str());
        break;
      }
      backstop = std::move(b.value());
    }
    pid_t pid = fork();
    if (pid == 0) {
      if (backstop && kernel::Backstop::child_hook(backstop.get()) < 0) _exit(125);
      syscall(SYS_execve, "/bin/true", argv, envp);
      _exit(127);
    }
    if (backstop) {
      Status started = backstop->on_started(pid);
      if (!started) {
        state.SkipWithError(started.error().to_string().c_str());
        waitpid(pid, nullptr, 0);
        break;
      }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("/bin/true did not run");
      break;
    }
    // The start is over when the program has run; tearing the backstop
    // down (joining its thread) happens when a function's sandbox ends.
    samples.push_back(now_us() - start);
    backstop.reset();
  }
  report_spread(state, samples);
}

// A supervised exec as a protected function pays it: the supervisor in this
// (unfiltered) process, a child under the block policy's backstop making
// 200 execs that the supervisor decides and the kernel then refuses
// (/etc/passwd is not executable), with an empty environment or a
// Lambda-sized one (40 entries, fnguard's LD_PRELOAD and Lambda's default
// LD_LIBRARY_PATH among them: the supervisor reads the library entries of
// every exec's environment and decides the search path's directories). Wall
// time per exec, measured in the child; run it on one CPU (taskset) for
// the cost a one-vCPU function sees.
void bm_supervised_exec(benchmark::State& state, size_t env_entries) {
  constexpr int kExecs = 200;
  const StartPolicy* block = nullptr;
  for (const StartPolicy& p : g_start_policies) {
    if (p.name == "block") block = &p;
  }
  // One block, as a process's environment is laid out by the kernel (and
  // as a runtime builds a child's from its own).
  std::string env_block;
  std::vector<size_t> starts;
  for (size_t i = 0; i + 2 < env_entries; ++i) {
    starts.push_back(env_block.size());
    env_block += "AWS_LAMBDA_VARIABLE_" + std::to_string(i) + "=some-typical-value-" +
                 std::to_string(i * 7919);
    env_block.push_back('\0');
  }
  if (env_entries > 1) {
    starts.push_back(env_block.size());
    env_block +=
        "LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
        "/var/task:/var/task/lib:/opt/lib";
    env_block.push_back('\0');
  }
  if (env_entries > 0) {
    starts.push_back(env_block.size());
    env_block += "LD_PRELOAD=" + enforcer_library_path();
    env_block.push_back('\0');
  }
  std::vector<char*> envp;
  for (size_t at : starts) envp.push_back(env_block.data() + at);
  envp.push_back(nullptr);
  char* const argv[] = {const_cast<char*>("passwd"), nullptr};
  for (auto _ : state) {
    auto b = kernel::Backstop::prepare(view_of(*block), start_options());
    if (!b) {
      state.SkipWithError(b.error().to_string().c_str());
      break;
    }
    int p[2];
    if (pipe(p) != 0) {
      state.SkipWithError("pipe");
      break;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      if (kernel::Backstop::child_hook(b.value().get()) < 0) _exit(125);
      syscall(SYS_execve, "/etc/passwd", argv, envp.data());  // the first: the command's own
      const double start = now_us();
      for (int i = 0; i < kExecs; ++i) syscall(SYS_execve, "/etc/passwd", argv, envp.data());
      double per_exec = (now_us() - start) / kExecs;
      (void)!write(p[1], &per_exec, sizeof per_exec);
      _exit(0);
    }
    close(p[1]);
    Status started = b.value()->on_started(pid);
    double per_exec = -1;
    if (!started || read(p[0], &per_exec, sizeof per_exec) != sizeof per_exec || per_exec < 0) {
      state.SkipWithError("the child did not report");
    }
    close(p[0]);
    waitpid(pid, nullptr, 0);
    if (per_exec < 0) break;
    state.SetIterationTime(per_exec / 1e6);
  }
}

#ifndef KERNEL_BENCH_BASELINE
void bm_probe(benchmark::State& state, kernel::ProbeDepth depth) {
  for (auto _ : state) benchmark::DoNotOptimize(kernel::probe_kernel(depth));
}

void bm_build_filter(benchmark::State& state, bool block, bool with_libseccomp) {
  kernel::FilterSpec spec;
  spec.refuse_denylist = block;
  spec.supervise_exec = true;
  spec.notify_denylist = block;
  spec.supervisor_pid = getpid();
  spec.supervisor_pgid = getpgrp();
  for (auto _ : state) {
    auto program =
        with_libseccomp
            ? kernel::build_filter_with_libseccomp(spec, 0, kernel::filter_values(spec))
            : kernel::build_filter(spec);
    benchmark::DoNotOptimize(program);
  }
}
#endif

void register_start_up() {
  for (const StartPolicy& p : g_start_policies) {
    benchmark::RegisterBenchmark(("backstop_prepare/" + p.name + "/none").c_str(),
                                 bm_backstop_prepare, &p)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("backstop_prepare_cold/" + p.name + "/none").c_str(),
                                 bm_backstop_prepare_cold, &p)
        ->Unit(benchmark::kMicrosecond)
        ->UseManualTime()
        ->Iterations(200);
  }
  // Process CPU time: includes the exec supervisor thread (not the child).
  benchmark::RegisterBenchmark("launch_true/unprotected/none", bm_launch_true, nullptr)
      ->Unit(benchmark::kMicrosecond)
      ->MeasureProcessCPUTime()
      ->UseRealTime();
  for (const StartPolicy& p : g_start_policies) {
    benchmark::RegisterBenchmark(("launch_true/" + p.name + "/none").c_str(), bm_launch_true, &p)
        ->Unit(benchmark::kMicrosecond)
        ->MeasureProcessCPUTime()
        ->UseRealTime();
  }
  for (size_t entries : {size_t{0}, size_t{40}}) {
    benchmark::RegisterBenchmark(
        ("supervised_exec/env" + std::to_string(entries) + "/none").c_str(), bm_supervised_exec,
        entries)
        ->Unit(benchmark::kMicrosecond)
        ->UseManualTime()
        ->Iterations(20);
  }
#ifndef KERNEL_BENCH_BASELINE
  benchmark::RegisterBenchmark("probe_kernel/quick/none", bm_probe, kernel::ProbeDepth::kQuick)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("probe_kernel/full/none", bm_probe, kernel::ProbeDepth::kFull)
      ->Unit(benchmark::kMicrosecond);
  for (bool block : {false, true}) {
    std::string name = block ? "block" : "default";
    benchmark::RegisterBenchmark(("build_filter/" + name + "_template/none").c_str(),
                                 bm_build_filter, block, false)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("build_filter/" + name + "_libseccomp/none").c_str(),
                                 bm_build_filter, block, true)
        ->Unit(benchmark::kMicrosecond);
  }
#endif
}

void register_phase(const std::string& phase) {
  benchmark::RegisterBenchmark(("getppid/" + phase).c_str(), bm_getppid);
  benchmark::RegisterBenchmark(("open_close/" + phase).c_str(), bm_open_close);
  // Process CPU time: includes the supervisor thread's work on each decision.
  benchmark::RegisterBenchmark(("exec_refused/" + phase).c_str(), bm_exec_refused)
      ->MeasureProcessCPUTime();
  benchmark::RegisterBenchmark(("fork_exec_wait/" + phase).c_str(), bm_fork_exec_wait)
      ->Unit(benchmark::kMicrosecond)
      ->MeasureProcessCPUTime();
}

// The policy the backstop is derived from: block mode, writes only under
// g_dir, exec by default allowed with one name denied, exec_from_writable.
std::vector<uint8_t> bench_image() {
  image::Builder b;
  b.set_top_mode(image::Mode::kBlock);
  for (size_t i = 0; i < image::kControlCount; ++i) {
    b.set_control(static_cast<image::Control>(i), image::Mode::kOff, image::Verdict::kAllow);
  }
  b.set_control(image::Control::kWritable, image::Mode::kOff, image::Verdict::kDeny);
  image::RuleSpec tmp;
  tmp.verdict = image::Verdict::kAllow;
  tmp.pattern = "/tmp/**";
  b.add_rule(image::Control::kWritable, tmp);
  b.set_control(image::Control::kFilesWrite, image::Mode::kBlock, image::Verdict::kDeny);
  image::RuleSpec dir = tmp;
  dir.pattern = g_dir + "/**";
  dir.source_index = 0;
  b.add_rule(image::Control::kFilesWrite, dir);
  b.set_control(image::Control::kProcessExec, image::Mode::kBlock, image::Verdict::kAllow);
  image::RuleSpec nc;
  nc.verdict = image::Verdict::kDeny;
  nc.kind = image::MatchKind::kExecName;
  nc.pattern = "nc";
  nc.source_index = 0;
  b.add_rule(image::Control::kProcessExec, nc);
  b.set_control(image::Control::kExecFromWritable, image::Mode::kBlock, image::Verdict::kDeny);
  return b.finish();
}

}  // namespace

int main(int argc, char** argv) {
  char tmpl[] = "/tmp/fnguard-kbench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  g_dir = tmpl;
  kernel::KernelFeatures f = kernel::probe_kernel();
  // KERNEL_BENCH_START_UP=1: only the start-up benchmarks (no filter is
  // then loaded in this process).
  const bool start_up_only = getenv("KERNEL_BENCH_START_UP") != nullptr;
  std::vector<std::string> phases = {"none"};
  if (!start_up_only && f.landlock_abi > 0) phases.push_back("landlock");
  if (!start_up_only && f.exec_supervision()) phases.push_back("seccomp");
  if (!start_up_only) {
    for (const auto& p : phases) register_phase(p);
  }
  if (!load_start_policies()) return 1;
  register_start_up();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::vector<uint8_t> bytes = bench_image();
  image::View view(bytes.data(), bytes.size());
  std::unique_ptr<kernel::ExecSupervisor> supervisor;
  // One reporter for every phase: libbenchmark 1.7's default one does not
  // survive a second RunSpecifiedBenchmarks call.
  benchmark::ConsoleReporter reporter(isatty(STDOUT_FILENO)
                                          ? benchmark::ConsoleReporter::OO_Defaults
                                          : benchmark::ConsoleReporter::OO_Tabular);
  for (const auto& phase : phases) {
    if (phase == "landlock") {
      kernel::LandlockPlan plan = kernel::plan_landlock(view, f.landlock_abi, {"/usr", "/bin"});
      auto fd = kernel::create_landlock_ruleset(plan);
      if (!fd || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          kernel::apply_landlock_ruleset(fd.value()) != 0) {
        std::fprintf(stderr, "kernel_bench: cannot apply Landlock\n");
        return 1;
      }
      close(fd.value());
      std::fprintf(stderr, "kernel_bench: Landlock applied (%s)\n", plan.summary().c_str());
    } else if (phase == "seccomp" && getenv("KERNEL_BENCH_EMPTY_FILTER") != nullptr) {
      // The floor: a filter that allows everything, to separate the kernel's
      // seccomp entry cost from the cost of our filter's program.
      kernel::BpfProgram allow_all;
      allow_all.insns.push_back(BPF_STMT(BPF_RET | BPF_K, 0x7fff0000u /* SECCOMP_RET_ALLOW */));
      if (kernel::install_filter(allow_all, false) != 0) return 1;
      std::fprintf(stderr, "kernel_bench: allow-all filter loaded (KERNEL_BENCH_EMPTY_FILTER)\n");
    } else if (phase == "seccomp") {
      kernel::FilterSpec spec;
      spec.supervise_exec = true;
      spec.notify_denylist = true;
      auto program = kernel::build_filter(spec);
      if (!program) {
        std::fprintf(stderr, "kernel_bench: %s\n", program.error().to_string().c_str());
        return 1;
      }
      int listener = kernel::install_filter(*program, true);
      if (listener < 0) {
        std::fprintf(stderr, "kernel_bench: cannot load the filter: %s\n", strerror(-listener));
        return 1;
      }
      kernel::ExecSupervisorOptions o;
      o.emit = [](std::string) {};
      auto s = kernel::ExecSupervisor::start(listener, view, std::move(o));
      if (!s) return 1;
      supervisor = std::move(s.value());
      std::fprintf(stderr,
                   "kernel_bench: seccomp filter loaded (%zu BPF instructions), exec supervised\n",
                   program->insns.size());
    }
    benchmark::RunSpecifiedBenchmarks(&reporter, "/" + phase + "(/|$)");
  }
  benchmark::Shutdown();
  unlink((g_dir + "/bench-file").c_str());
  rmdir(g_dir.c_str());
  return 0;
}
