// Kernel feature probe. The seccomp user-notification flags can only be
// tested against a real listener, so a short-lived child installs a filter
// that notifies on a syscall nobody calls (and allows everything else), asks
// its own listener which ioctls and flags the kernel accepts, and leaves the
// answer in memory it shares with us. Unknown flags fail with EINVAL before
// the kernel looks the notification id up (which fails with ENOENT), so an id
// that does not exist tells the two apart without any notification pending.
//
// The child is a vfork-style clone (CLONE_VM | CLONE_VFORK, its own small
// stack), not a fork: it shares our memory instead of copying our page
// tables, and we are suspended until it exits, so probing costs tens of
// microseconds instead of the fork of a large process (this runs on every
// cold start). The filter, no_new_privs and the listener belong to the child
// task and its own descriptor table (no CLONE_FILES) and end with it.
#include "fnguard/kernel/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "fnguard/kernel/landlock_abi.h"

namespace fnguard::kernel {
namespace {

long seccomp_call(unsigned op, unsigned flags, void* arg) {
  return syscall(SYS_seccomp, op, flags, arg);
}

bool action_available(uint32_t action) {
  return seccomp_call(SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

// Runs in the forked child: returns a bit set (1 listener, 2 continue, 4 addfd).
int probe_listener_in_child() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 0;
  // Notify on SYS_getcpu's neighbour nobody uses: the filter only needs to
  // exist. Native-architecture check first, as every real filter does.
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_vhangup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof(insns) / sizeof(insns[0])), insns};
  long fd = seccomp_call(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) return 0;
  int bits = 1;
  if (listener_accepts_continue(static_cast<int>(fd))) bits |= 2;
  struct seccomp_notif_addfd addfd;
  memset(&addfd, 0, sizeof(addfd));
  addfd.id = 0x7fffffffffffull;
  addfd.srcfd = 0;
  if (ioctl(static_cast<int>(fd), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) != 0 && errno == ENOENT)
    bits |= 4;
  return bits;
}

// The child of run_listener_probe(): on its own stack, in our memory.
// Only system calls (no allocation, no locks: our other threads keep
// running and may hold them). Stores the bits and exits.
int listener_probe_child(void* out) {
  *static_cast<volatile int*>(out) = probe_listener_in_child();
  _exit(0);
}

int run_listener_probe() {
  // probe_listener_in_child() uses a few hundred bytes of stack; this frame
  // stays alive (we are suspended) while the child runs on it.
  alignas(64) char stack[16 * 1024];
  volatile int bits = 0;
  // A signal handler must not run in the child: it would run on our memory
  // with our handlers' assumptions (posix_spawn blocks them the same way).
  // The child exits without unblocking anything.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = clone(listener_probe_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD,
                    const_cast<int*>(&bits));
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) return 0;
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // A child that died before storing (it cannot, short of a signal) reads 0.
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? bits : 0;
}

int own_seccomp_mode() {
  // prctl answers without reading /proc (a filter may refuse it; then ask /proc).
  int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (mode >= 0) return mode;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Seccomp:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

// True when the kernel accepts `flag` for SECCOMP_SET_MODE_FILTER: with a
// null program, a known flag fails on the copy (EFAULT), an unknown one on
// the flag check that comes first (EINVAL). Nothing is installed.
bool filter_flag_known(unsigned flag) {
  return seccomp_call(SECCOMP_SET_MODE_FILTER, flag, nullptr) != 0 && errno == EFAULT;
}

// "5.10.0-..." -> 5 * 1000 + 10; 0 when unreadable.
int release_number(const char* release) {
  int part[2] = {0, 0};
  const char* p = release;
  for (int i = 0; i < 2; ++i) {
    if (*p < '0' || *p > '9') return 0;
    while (*p >= '0' && *p <= '9' && part[i] < 100000) part[i] = part[i] * 10 + (*p++ - '0');
    if (i == 0 && *p++ != '.') return 0;
  }
  return part[0] > 0 && part[1] < 1000 ? part[0] * 1000 + part[1] : 0;
}

}  // namespace

bool listener_accepts_continue(int listener) {
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof(resp));
  resp.id = 0x7fffffffffffull;  // no such notification
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno == ENOENT;
}

KernelFeatures probe_kernel(ProbeDepth depth) {
  KernelFeatures f;
  struct utsname u;
  if (uname(&u) == 0) f.release = u.release;
  f.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0;
  f.seccomp_mode_now = own_seccomp_mode();
  f.seccomp_filter = action_available(SECCOMP_RET_ERRNO) && action_available(SECCOMP_RET_ALLOW);
  bool notif_action = f.seccomp_filter && action_available(SECCOMP_RET_USER_NOTIF);

  const int release = release_number(f.release.c_str());
  if (depth == ProbeDepth::kQuick && notif_action && f.no_new_privs && release >= 5005 &&
      f.seccomp_mode_now == 0) {
    // CONTINUE and the listener flag both exist upstream since 5.5 and are
    // not configurable; whether a listener really accepts CONTINUE is
    // confirmed by the launched child on its own listener before it runs
    // anything (Backstop::install_in_child), which fails closed if not.
    // Only without a filter of our own: under one, a listener can be
    // refused (EBUSY when a filter above already has one), which only a
    // real attempt shows.
    f.user_notif = filter_flag_known(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    f.notif_continue = f.user_notif;
    f.notif_addfd = f.user_notif && release >= 5009;
    f.listener_flags_inferred = true;
  } else if (notif_action && f.no_new_privs) {
    int bits = run_listener_probe();
    f.user_notif = bits & 1;
    f.notif_continue = bits & 2;
    f.notif_addfd = bits & 4;
  }

  long abi = ll::create_ruleset(nullptr, 0, ll::kCreateRulesetVersion);
  if (abi > 0) {
    f.landlock_abi = static_cast<int>(abi);
  } else if (errno == ENOSYS) {
    f.landlock_reason = "this kernel was built without Landlock";
  } else if (errno == EOPNOTSUPP) {
    f.landlock_reason = "Landlock is disabled at boot (add landlock to the lsm= kernel parameter)";
  } else {
    f.landlock_reason = std::string("landlock_create_ruleset failed: ") + strerror(errno);
  }
  return f;
}

}  // namespace fnguard::kernel
