// The seccomp denylist takes effect: each refused call fails with its errno
// in a process that loaded the filter, ordinary calls still work, calls aimed
// at the supervisor are refused while the same calls aimed at the caller or
// another process still work, and upper register bits cannot smuggle a
// refused argument past the filter. (With a listener the supervisor also
// refuses its threads' ids: kernel_exec_test.cc.)
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
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

using testing::ParkedThread;
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
    r += result("raw6", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
    r += result("by_handle", syscall(SYS_open_by_handle_at, AT_FDCWD, nullptr, O_RDONLY));
    r += result("clone3", syscall(SYS_clone3, nullptr, 0));
    r += result("kill_supervisor", kill(getppid(), 0));
    // The kernel reads pid_t from the low 32 bits: garbage above them must
    // not let kill(supervisor) through.
    r += result("kill_supervisor_hi", syscall(SYS_kill, (0xdead00000000ull | getppid()), 0));
    r += result("kill_all", syscall(SYS_kill, 0x00000000ffffffffull, 0));
    // kill(0) reaches the caller's group, the supervisor's: refused also
    // when the spec has no group (one this PID namespace cannot see).
    r += result("kill_group", kill(0, 0));
    return r;
  });
  EXPECT_EQ(out,
            "io_uring_setup=1;ptrace=1;process_vm_readv=1;bpf=1;unshare=1;mount=1;userfaultfd=1;"
            "packet=1;raw=1;raw6=1;by_handle=1;clone3=38;kill_supervisor=1;kill_supervisor_hi=1;"
            "kill_all=1;kill_group=1;");
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
    // A netlink socket is SOCK_RAW too: getifaddrs (Node's
    // os.networkInterfaces) lists the interfaces through one.
    long nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */);
    r += result("netlink", nl);
    if (nl >= 0) close(static_cast<int>(nl));
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
  EXPECT_EQ(out, "tcp=ok;udp=ok;netlink=ok;getppid=ok;kill_self=ok;fork=ok;");
}

long sigqueue(pid_t pid, int sig) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_QUEUE;
  return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
}

long tgsigqueue(pid_t tgid, pid_t tid, int sig) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = SI_QUEUE;
  return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, &si);
}

constexpr unsigned kPidfdThread = O_EXCL;  // PIDFD_THREAD, Linux 6.9

// The filter with the supervisor's pid and group and no listener (as on a
// kernel without user notification): every way to signal it, take a handle
// on it, change its limits or make it the owner of SIGIO is refused. Signal
// 0 and unchanged limits keep the test harmless if a call got through.
TEST_F(FilterTest, RefusesCallsAimedAtTheSupervisor) {
  FilterSpec spec;
  spec.supervisor_pid = getpid();
  spec.supervisor_pgid = getpgrp();
  auto program = build_filter(spec);
  ASSERT_TRUE(program) << program.error().to_string();
  ParkedThread helper;
  const pid_t thread = helper.tid();
  std::string out = run_in_child([&] {
    if (install_filter(*program, false) != 0) return std::string("install failed");
    const pid_t sup = getppid();
    std::string r;
    r += result("tkill_thread", syscall(SYS_tkill, thread, 0));
    r += result("tkill_self", syscall(SYS_tkill, gettid(), 0));
    r += result("tgkill_thread", syscall(SYS_tgkill, sup, thread, 0));
    r += result("sigqueue", sigqueue(sup, 0));
    r += result("tgsigqueue", tgsigqueue(sup, thread, 0));
    r += result("pidfd_open", syscall(SYS_pidfd_open, sup, 0));
    r += result("pidfd_open_thread", syscall(SYS_pidfd_open, getpid(), kPidfdThread));
    r += result("pidfd_getfd", syscall(SYS_pidfd_getfd, 0, 0, 0));
    struct rlimit cpu;
    if (syscall(SYS_prlimit64, sup, RLIMIT_CPU, nullptr, &cpu) != 0) return std::string("read");
    r += result("prlimit", syscall(SYS_prlimit64, sup, RLIMIT_CPU, &cpu, nullptr));
    r += result("prlimit_hi",
                syscall(SYS_prlimit64, 0xdead00000000ull | sup, RLIMIT_CPU, &cpu, nullptr));
    int p[2];
    if (pipe(p) != 0) return std::string("pipe");
    r += result("setown", fcntl(p[0], F_SETOWN, sup));
    // A group whose leader is outside this PID namespace reads as 0 and
    // cannot be named (F_SETOWN(0) clears the owner): nothing to refuse.
    if (getpgrp() > 0) {
      r += result("setown_group", fcntl(p[0], F_SETOWN, -getpgrp()));
    } else {
      r += "setown_group=unseen;";
    }
    struct f_owner_ex owner = {F_OWNER_TID, thread};
    r += result("setown_ex", fcntl(p[0], F_SETOWN_EX, &owner));
    r += result("setsig", fcntl(p[0], F_SETSIG, SIGKILL));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int id = sup;
    r += result("fiosetown", ioctl(s, FIOSETOWN, &id));
    r += result("siocspgrp", ioctl(s, SIOCSPGRP, &id));
    return r;
  });
  EXPECT_EQ(out,
            std::string("tkill_thread=1;tkill_self=1;tgkill_thread=1;sigqueue=1;tgsigqueue=1;"
                        "pidfd_open=1;pidfd_open_thread=1;pidfd_getfd=1;prlimit=1;prlimit_hi=1;"
                        "setown=1;") +
                (getpgrp() > 0 ? "setown_group=1;" : "setown_group=unseen;") +
                "setown_ex=1;setsig=1;fiosetown=1;siocspgrp=1;");
}

// The same calls aimed at the caller itself, or only reading, still work:
// a function sets its own limits (glibc passes pid 0), owns its own SIGIO,
// signals itself.
TEST_F(FilterTest, TheSameCallsAimedElsewhereStillWork) {
  FilterSpec spec;
  spec.supervisor_pid = getpid();
  spec.supervisor_pgid = getpgrp();
  auto program = build_filter(spec);
  ASSERT_TRUE(program) << program.error().to_string();
  ParkedThread helper;
  const pid_t thread = helper.tid();
  std::string out = run_in_child([&] {
    if (install_filter(*program, false) != 0) return std::string("install failed");
    const pid_t sup = getppid();
    std::string r;
    struct rlimit files;
    r += result("prlimit_read_supervisor",
                syscall(SYS_prlimit64, sup, RLIMIT_NOFILE, nullptr, &files));
    r += result("prlimit_self", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &files, nullptr));
    r +=
        result("prlimit_own_pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, &files, nullptr));
    r += result("setrlimit", setrlimit(RLIMIT_NOFILE, &files));
    int p[2];
    if (pipe(p) != 0) return std::string("pipe");
    r += result("setown_self", fcntl(p[0], F_SETOWN, getpid()));
    r += std::string("getown=") + (fcntl(p[0], F_GETOWN) == getpid() ? "self" : "other") + ";";
    r += result("setown_none", fcntl(p[0], F_SETOWN, 0));
    r += result("setsig_default", fcntl(p[0], F_SETSIG, 0));
    struct f_owner_ex owner;
    r += result("getown_ex", fcntl(p[0], F_GETOWN_EX, &owner));
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int one = 1;
    r += result("fionbio", ioctl(s, FIONBIO, &one));
    r += result("sigqueue_self", sigqueue(getpid(), 0));
    r += result("tgsigqueue_self", tgsigqueue(getpid(), gettid(), 0));
    r += result("tgkill_self", syscall(SYS_tgkill, getpid(), gettid(), 0));
    r += result("tgkill_wrong_group", syscall(SYS_tgkill, thread, thread, 0));
    long pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    r += result("pidfd_open_self", pidfd < 0 && errno == ENOSYS ? 0 : pidfd);
    // Known limit without a listener: the filter cannot tell the
    // supervisor's other threads from anyone else (denylist.h).
    r += result("kill_thread_without_listener", kill(thread, 0));
    return r;
  });
  EXPECT_EQ(out,
            "prlimit_read_supervisor=ok;prlimit_self=ok;prlimit_own_pid=ok;setrlimit=ok;"
            "setown_self=ok;getown=self;setown_none=ok;setsig_default=ok;getown_ex=ok;fionbio=ok;"
            "sigqueue_self=ok;tgsigqueue_self=ok;tgkill_self=ok;tgkill_wrong_group=3;"
            "pidfd_open_self=ok;kill_thread_without_listener=ok;");
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
