// What the running kernel offers the kernel backstop: the seccomp filter and
// its user-notification features (which exec supervision needs), Landlock and
// its ABI version, and no_new_privs. `fnguard doctor`, the start-up lifecycle
// event and the launcher all read the same KernelFeatures.
//
// Probing has no lasting effect on the caller: checks that need a seccomp
// filter installed run in a short-lived vfork-style child.
#pragma once

#include <string>

namespace fnguard::kernel {

struct KernelFeatures {
  std::string release;          // uname -r
  bool no_new_privs = false;    // prctl(PR_SET_NO_NEW_PRIVS) known to the kernel
  bool seccomp_filter = false;  // SECCOMP_SET_MODE_FILTER with SECCOMP_RET_ERRNO
  bool user_notif = false;      // SECCOMP_RET_USER_NOTIF + SECCOMP_FILTER_FLAG_NEW_LISTENER
  bool notif_continue = false;  // SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5)
  bool notif_addfd = false;     // SECCOMP_IOCTL_NOTIF_ADDFD (Linux 5.9)
  int landlock_abi = 0;         // 0: no Landlock (absent or disabled at boot)
  std::string landlock_reason;  // why landlock_abi is 0, else empty
  int seccomp_mode_now = 0;     // this process's own Seccomp: field (0 none, 2 filter)
  // ProbeDepth::kQuick: user_notif/notif_continue/notif_addfd come from the
  // flag check and the release, not from a real listener (see below).
  bool listener_flags_inferred = false;

  // Exec supervision needs a listener and CONTINUE (to let an allowed exec
  // proceed as the process asked it).
  bool exec_supervision() const { return seccomp_filter && user_notif && notif_continue; }
  bool landlock_net() const { return landlock_abi >= 4; }
  bool landlock_scope() const { return landlock_abi >= 6; }
};

enum class ProbeDepth {
  // Tests the listener's flags on a real listener in a vfork-style child
  // (tens of microseconds). `fnguard doctor` and tests.
  kFull,
  // No child process: a few system calls, a few microseconds (the launcher,
  // on every cold start). On Linux 5.5+ the listener's flags are taken from
  // the kernel accepting SECCOMP_FILTER_FLAG_NEW_LISTENER and from the
  // release (CONTINUE is 5.5, ADDFD 5.9, neither can be configured out);
  // the launched child then confirms CONTINUE on its real listener with
  // listener_accepts_continue() and refuses to run the command if it is
  // missing (a kernel that claims 5.5+ without it fails closed, it does not
  // hang). Older or unreadable releases, and a process already under a
  // seccomp filter (where a listener may be refused), get the full probe.
  kQuick,
};

KernelFeatures probe_kernel(ProbeDepth depth = ProbeDepth::kFull);

// True when `listener` (a seccomp user-notification fd) accepts
// SECCOMP_USER_NOTIF_FLAG_CONTINUE. Asks about a notification id that does
// not exist: an unknown flag fails with EINVAL before the id lookup fails
// with ENOENT. One ioctl, async-signal-safe.
bool listener_accepts_continue(int listener);

}  // namespace fnguard::kernel
