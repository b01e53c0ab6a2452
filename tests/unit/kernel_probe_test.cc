// The quick kernel probe (no child process, used on every launch) reports
// what the full probe (a real listener in a child) finds on this kernel, and
// the launched child's CONTINUE check accepts a real listener.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fnguard/kernel/probe.h"
#include "kernel_test_util.h"

namespace fnguard::kernel {
namespace {

// In a child: a filter that only notifies on vhangup(2), with a listener.
// Returns the listener, -2 when no_new_privs failed, -1 when the kernel
// refused the filter.
long install_listener() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -2;
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vhangup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {4, insns};
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

TEST(Probe, QuickProbeAgreesWithTheFullProbe) {
  KernelFeatures full = probe_kernel(ProbeDepth::kFull);
  KernelFeatures quick = probe_kernel(ProbeDepth::kQuick);
  EXPECT_FALSE(full.listener_flags_inferred);
  EXPECT_EQ(quick.release, full.release);
  EXPECT_EQ(quick.no_new_privs, full.no_new_privs);
  EXPECT_EQ(quick.seccomp_filter, full.seccomp_filter);
  EXPECT_EQ(quick.user_notif, full.user_notif);
  EXPECT_EQ(quick.notif_continue, full.notif_continue);
  EXPECT_EQ(quick.notif_addfd, full.notif_addfd);
  EXPECT_EQ(quick.exec_supervision(), full.exec_supervision());
  EXPECT_EQ(quick.landlock_abi, full.landlock_abi);
  EXPECT_EQ(quick.seccomp_mode_now, full.seccomp_mode_now);
}

TEST(Probe, ProbingLeavesNoFilterOnTheCaller) {
  // The listener test runs in a child sharing our memory: our own task must
  // come out without a filter and without no_new_privs.
  std::string out = testing::run_in_child([] {
    auto state = [] {
      return std::to_string(prctl(PR_GET_SECCOMP, 0, 0, 0, 0)) + "," +
             std::to_string(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    };
    std::string before = state();
    KernelFeatures f = probe_kernel(ProbeDepth::kFull);
    (void)probe_kernel(ProbeDepth::kQuick);
    if (!f.user_notif) return std::string("no listener probed");
    return before + " -> " + state();
  });
  if (out == "no listener probed") GTEST_SKIP() << "this kernel has no seccomp user notification";
  size_t arrow = out.find(" -> ");
  ASSERT_NE(arrow, std::string::npos) << out;
  EXPECT_EQ(out.substr(0, arrow), out.substr(arrow + 4)) << out;
}

TEST(Probe, UnderAFilterWithAListenerNoListenerIsPromised) {
  // Nested fnguard, or a container manager that uses seccomp notification:
  // a filter above us already has a listener, so ours would be refused
  // (EBUSY). Both probes must say so instead of promising exec supervision.
  KernelFeatures f = probe_kernel(ProbeDepth::kFull);
  if (!f.user_notif) GTEST_SKIP() << "this kernel has no seccomp user notification";
  std::string out = testing::run_in_child([] {
    long fd = install_listener();
    if (fd == -2) return std::string("nnp failed");
    if (fd < 0) return std::string("no listener");
    KernelFeatures quick = probe_kernel(ProbeDepth::kQuick);
    KernelFeatures full = probe_kernel(ProbeDepth::kFull);
    return std::string(quick.user_notif ? "quick-yes" : "quick-no") + "," +
           (full.user_notif ? "full-yes" : "full-no") + "," +
           (quick.seccomp_filter ? "filter" : "no-filter");
  });
  EXPECT_EQ(out, "quick-no,full-no,filter");
}

TEST(Probe, ContinueCheckOnARealListener) {
  KernelFeatures f = probe_kernel(ProbeDepth::kFull);
  if (!f.user_notif) GTEST_SKIP() << "this kernel has no seccomp user notification";
  std::string out = testing::run_in_child([&] {
    long fd = install_listener();
    if (fd == -2) return std::string("nnp failed");
    if (fd < 0) return std::string("no listener");
    // A descriptor that is not a listener must not pass for one.
    bool on_stdin = listener_accepts_continue(0);
    return std::string(listener_accepts_continue(static_cast<int>(fd)) ? "yes" : "no") +
           (on_stdin ? ",stdin-yes" : ",stdin-no");
  });
  EXPECT_EQ(out, std::string(f.notif_continue ? "yes" : "no") + ",stdin-no");
}

}  // namespace
}  // namespace fnguard::kernel
