// What the running kernel offers the kernel backstop: the seccomp filter and
// its user-notification features (which exec supervision needs), Landlock and
// its ABI version, and no_new_privs. `fnguard doctor`, the start-up lifecycle
// event and the launcher all read the same KernelFeatures.
//
// Probing has no lasting effect on the caller: checks that need a seccomp
// filter installed run in a short-lived forked child.
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

  // Exec supervision needs a listener and CONTINUE (to let an allowed exec
  // proceed as the process asked it).
  bool exec_supervision() const { return seccomp_filter && user_notif && notif_continue; }
  bool landlock_net() const { return landlock_abi >= 4; }
  bool landlock_scope() const { return landlock_abi >= 6; }
};

// Probes once per call (a fork and a few syscalls; about a millisecond).
KernelFeatures probe_kernel();

}  // namespace fnguard::kernel
