// The seccomp denylist takes effect: each refused call fails with its errno
// in a process that loaded the filter, ordinary calls still work, and upper
// register bits cannot smuggle a refused argument past the filter.
#include <errno.h>
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fnguard/kernel/denylist.h"
#include "fnguard/kernel/probe.h"
#include "fnguard/kernel/seccomp_filter.h"
#include "kernel_test_util.h"

namespace fnguard::kernel {
namespace {

using testing::run_in_child;

// "name=errno;" for each probe, so a failure message says which call leaked.
std::string result(const char* name, long rc) {
  return std::string(name) + "=" + (rc < 0 ? std::to_string(errno) : std::string("ok")) + ";";
}

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KernelFeatures f = probe_kernel();
    if (!f.seccomp_filter) GTEST_SKIP() << "this kernel has no seccomp filter";
  }
};

TEST_F(FilterTest, RefusesTheDenylist) {
  FilterSpec spec;
  spec.supervisor_pid = getpid();
  auto program = build_filter(spec);
  ASSERT_TRUE(program) << program.error().to_string();
  std::string out = run_in_child([&] {
    if (install_filter(*program, false) != 0) return std::string("install failed");
    std::string r;
    struct io_uring_params params = {};
    r += result("io_uring_setup", syscall(SYS_io_uring_setup, 4, &params));
    r += result("ptrace", ptrace(PTRACE_ATTACH, getppid(), nullptr, nullptr));
    r += result("process_vm_readv",
                syscall(SYS_process_vm_readv, getppid(), nullptr, 0, nullptr, 0, 0));
    r += result("bpf", syscall(SYS_bpf, 0, nullptr, 0));
    r += result("unshare", unshare(CLONE_NEWUSER));
    r += result("mount", syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, nullptr));
    r += result("userfaultfd", syscall(SYS_userfaultfd, 0));
    r += result("packet", socket(AF_PACKET, SOCK_RAW, 0));
    r += result("raw", socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
    r += result("clone3", syscall(SYS_clone3, nullptr, 0));
    r += result("kill_supervisor", kill(getppid(), 0));
    // The kernel reads pid_t from the low 32 bits: garbage above them must
    // not let kill(supervisor) through.
    r += result("kill_supervisor_hi", syscall(SYS_kill, (0xdead00000000ull | getppid()), 0));
    r += result("kill_all", syscall(SYS_kill, 0x00000000ffffffffull, 0));
    return r;
  });
  EXPECT_EQ(out,
            "io_uring_setup=1;ptrace=1;process_vm_readv=1;bpf=1;unshare=1;mount=1;userfaultfd=1;"
            "packet=1;raw=1;clone3=38;kill_supervisor=1;kill_supervisor_hi=1;kill_all=1;");
}

TEST_F(FilterTest, OrdinaryCallsStillWork) {
  FilterSpec spec;
  spec.supervisor_pid = getpid();
  auto program = build_filter(spec);
  ASSERT_TRUE(program);
  std::string out = run_in_child([&] {
    if (install_filter(*program, false) != 0) return std::string("install failed");
    std::string r;
    long s = socket(AF_INET, SOCK_STREAM, 0);
    r += result("tcp", s);
    if (s >= 0) close(static_cast<int>(s));
    long u = socket(AF_INET, SOCK_DGRAM, 0);
    r += result("udp", u);
    if (u >= 0) close(static_cast<int>(u));
    r += result("getppid", getppid());
    r += result("kill_self", kill(getpid(), 0));
    pid_t child = fork();  // glibc's fork uses clone without namespace flags
    if (child == 0) _exit(7);
    int status = 0;
    waitpid(child, &status, 0);
    r +=
        std::string("fork=") + (WIFEXITED(status) && WEXITSTATUS(status) == 7 ? "ok" : "bad") + ";";
    return r;
  });
  EXPECT_EQ(out, "tcp=ok;udp=ok;getppid=ok;kill_self=ok;fork=ok;");
}

#if defined(__x86_64__)
TEST_F(FilterTest, OtherAbisKillTheProcess) {
  // x32 numbers (bit 30 set) and i386 calls are not described by the filter:
  // a refused call made through them must not slip past, so they kill.
  FilterSpec spec;
  auto program = build_filter(spec);
  ASSERT_TRUE(program);
  int status = 0;
  std::string out = run_in_child(
      [&] {
        if (install_filter(*program, false) != 0) return std::string("install failed");
        syscall(0x40000000 | SYS_io_uring_setup, 4, nullptr);
        return std::string("survived");
      },
      &status);
  EXPECT_EQ(out, "");
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << status;
}
#endif

TEST(Denylist, EveryEntryResolvesOrIsAbsentOnThisArchitecture) {
  size_t count = 0;
  const DeniedSyscall* table = denied_syscalls(&count);
  ASSERT_GT(count, 20u);
  for (size_t i = 0; i < count; ++i) {
    EXPECT_NE(table[i].reason[0], '\0') << table[i].name;
    EXPECT_NE(table[i].error, 0) << table[i].name;
  }
}

}  // namespace
}  // namespace fnguard::kernel
