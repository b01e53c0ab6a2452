// Allow-path cost of the in-process enforcer, measured side by side in one
// process: each benchmark calls the hooked libc entry point (through
// libfnguard.so when this binary runs under `fnguard run`) and the same
// function taken straight from libc (dlopen("libc.so.6") + dlsym on that
// handle bypasses the preload). The difference is what the enforcer adds.
//
// Run it with bench/run_enforcer_bench.sh, which starts it under `fnguard run`
// with bench/allow_policy.yaml (every benchmarked operation allowed by a rule,
// in block mode, so the full decision path runs).
//
// Start-up: BM_SpawnTrue* fork+exec /bin/true with the raw execve syscall and
// an environment with or without LD_PRELOAD/FNGUARD_ENFORCER, so the only
// difference is the enforcer loading and initialising in the child.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

template <typename Fn>
Fn libc_symbol(const char* name) {
  static void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  return reinterpret_cast<Fn>(dlsym(libc, name));
}

const char* kFile = "/etc/hostname";

void BM_OpenClose_Hooked(benchmark::State& state) {
  for (auto _ : state) {
    int fd = open(kFile, O_RDONLY | O_CLOEXEC);
    benchmark::DoNotOptimize(fd);
    close(fd);
  }
}

void BM_OpenClose_Libc(benchmark::State& state) {
  auto real_open = libc_symbol<int (*)(const char*, int, ...)>("open");
  auto real_close = libc_symbol<int (*)(int)>("close");
  for (auto _ : state) {
    int fd = real_open(kFile, O_RDONLY | O_CLOEXEC);
    benchmark::DoNotOptimize(fd);
    real_close(fd);
  }
}

// The kernel's share: the enforcer's fast path replaces the caller's openat
// with openat2(RESOLVE_NO_SYMLINKS) (links are then caught without a second
// system call). These two measure that difference alone, with raw system
// calls that no hook sees.
// mmap is hooked for mmap(PROT_EXEC) of a file; every other mapping (an
// allocator's anonymous memory, here 64 KiB mapped and unmapped) passes
// with one test.
void BM_MmapAnon_Hooked(benchmark::State& state) {
  for (auto _ : state) {
    void* p = mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    benchmark::DoNotOptimize(p);
    munmap(p, 65536);
  }
}

void BM_MmapAnon_Libc(benchmark::State& state) {
  auto real_mmap = libc_symbol<void* (*)(void*, size_t, int, int, int, off_t)>("mmap");
  for (auto _ : state) {
    void* p = real_mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    benchmark::DoNotOptimize(p);
    munmap(p, 65536);
  }
}

void BM_RawOpenat(benchmark::State& state) {
  for (auto _ : state) {
    long fd = syscall(SYS_openat, AT_FDCWD, kFile, O_RDONLY | O_CLOEXEC);
    benchmark::DoNotOptimize(fd);
    syscall(SYS_close, fd);
  }
}

void BM_RawOpenat2NoSymlinks(benchmark::State& state) {
  for (auto _ : state) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;
    long fd = syscall(SYS_openat2, AT_FDCWD, kFile, &how, sizeof how);
    benchmark::DoNotOptimize(fd);
    syscall(SYS_close, fd);
  }
}

// A loopback listener for the connect benchmarks; connections are accepted
// by the kernel backlog and never read.
int listener_port() {
  static int port = [] {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(s, 4096);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    return static_cast<int>(ntohs(a.sin_port));
  }();
  return port;
}

// Connects a UDP socket: the connect() decision is the same as for TCP, and
// UDP keeps the kernel's share of the cost small and stable.
template <bool kHooked>
void connect_loop(benchmark::State& state) {
  auto real_connect = libc_symbol<int (*)(int, const sockaddr*, socklen_t)>("connect");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(listener_port()));
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  for (auto _ : state) {
    int r = kHooked ? connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a)
                    : real_connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    benchmark::DoNotOptimize(r);
  }
  close(s);
}
void BM_ConnectUdpLoopback_Hooked(benchmark::State& state) { connect_loop<true>(state); }
void BM_ConnectUdpLoopback_Libc(benchmark::State& state) { connect_loop<false>(state); }

// Allowed exec through the hooked execve (posix_spawn-free, fork + execve).
template <bool kHooked>
void exec_loop(benchmark::State& state) {
  auto real_execve = libc_symbol<int (*)(const char*, char* const[], char* const[])>("execve");
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) {
      if (kHooked) {
        execve("/bin/true", argv, environ);
      } else {
        real_execve("/bin/true", argv, environ);
      }
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
}
void BM_ForkExecTrue_Hooked(benchmark::State& state) { exec_loop<true>(state); }
void BM_ForkExecTrue_Libc(benchmark::State& state) { exec_loop<false>(state); }

// Start-up cost of the enforcer in a new process: raw execve, environment
// with or without the preload.
template <bool kWithEnforcer>
void spawn_loop(benchmark::State& state) {
  std::vector<std::string> keep;
  for (char** e = environ; *e != nullptr; ++e) {
    bool ours = std::strncmp(*e, "LD_PRELOAD=", 11) == 0 ||
                std::strncmp(*e, "FNGUARD_ENFORCER=", 17) == 0;
    if (kWithEnforcer || !ours) keep.emplace_back(*e);
  }
  std::vector<char*> envp;
  for (auto& s : keep) envp.push_back(s.data());
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) {
      syscall(SYS_execve, "/bin/true", argv, envp.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
}
void BM_SpawnTrue_WithEnforcer(benchmark::State& state) { spawn_loop<true>(state); }
void BM_SpawnTrue_WithoutEnforcer(benchmark::State& state) { spawn_loop<false>(state); }

}  // namespace

BENCHMARK(BM_OpenClose_Libc);
BENCHMARK(BM_OpenClose_Hooked);
BENCHMARK(BM_MmapAnon_Libc);
BENCHMARK(BM_MmapAnon_Hooked);
BENCHMARK(BM_RawOpenat);
BENCHMARK(BM_RawOpenat2NoSymlinks);
BENCHMARK(BM_ConnectUdpLoopback_Libc);
BENCHMARK(BM_ConnectUdpLoopback_Hooked);
BENCHMARK(BM_ForkExecTrue_Libc)->Iterations(300);
BENCHMARK(BM_ForkExecTrue_Hooked)->Iterations(300);
BENCHMARK(BM_SpawnTrue_WithoutEnforcer)->Iterations(300);
BENCHMARK(BM_SpawnTrue_WithEnforcer)->Iterations(300);

BENCHMARK_MAIN();
