// What any exec wrapper pays on this machine before its own code runs, the
// floor under lambda_bench's cold-start numbers (docs/BENCHMARKS.md, sixth
// session):
//
//   spawn        vfork + exec + wait of a program without a C library (its
//                entry point exits), and of a static glibc program that
//                returns from main at once (exec_only_wrapper without
//                arguments): the difference is glibc's own start;
//   cpuid        one CPUID instruction (x86-64), which glibc's start runs a
//                few dozen times and which a virtual machine traps;
//   thread       creating a thread (std::thread, the creator's side).
//
//   build/bin/start_floor_bench [N]      (N runs each, default 300)
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Microseconds from vfork to the reaped exit of `path`, or -1.
double spawn_us(const char* path) {
  char* argv[] = {const_cast<char*>(path), nullptr};
  int64_t t0 = now_ns();
  pid_t pid = vfork();
  if (pid == 0) {
    execv(path, argv);
    _exit(127);
  }
  if (pid < 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return (now_ns() - t0) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 300;
  if (n <= 0) n = 300;
  std::vector<double> bare, glibc;
  for (int i = 0; i < n; ++i) {  // interleaved: machine noise hits both alike
    bare.push_back(spawn_us(FNGUARD_NOLIBC_PROGRAM));
    glibc.push_back(spawn_us(FNGUARD_GLIBC_PROGRAM));
  }
  std::printf("spawn to reaped, median of %d: no C library %.0f us; static glibc %.0f us; "
              "glibc's start %.0f us\n",
              n, median(bare), median(glibc), median(glibc) - median(bare));
#if defined(__x86_64__)
  std::vector<double> cpuid;
  for (int r = 0; r < 20; ++r) {
    unsigned a, b, c, d;
    int64_t t0 = now_ns();
    for (int i = 0; i < 1000; ++i) __cpuid_count(4, i & 3, a, b, c, d);
    cpuid.push_back((now_ns() - t0) / 1e6);  // us per instruction
  }
  std::printf("cpuid: %.2f us each (median of 20 loops of 1000)\n", median(cpuid));
#endif
  std::vector<double> thread;
  for (int i = 0; i < n; ++i) {
    int64_t t0 = now_ns();
    std::thread t([] {});
    int64_t t1 = now_ns();
    t.join();
    thread.push_back((t1 - t0) / 1e3);
  }
  std::printf("thread creation (creator's side): %.1f us median of %d\n", median(thread), n);
  return 0;
}
