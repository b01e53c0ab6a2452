// Kernel feature probe. The seccomp user-notification flags can only be
// tested against a real listener, so a forked child installs a filter that
// notifies on a syscall nobody calls (and allows everything else), asks its
// own listener which ioctls and flags the kernel accepts, and reports back
// through a pipe. Unknown flags fail with EINVAL before the kernel looks the
// notification id up (which fails with ENOENT), so an id that does not exist
// tells the two apart without any notification pending.
#include "fnguard/kernel/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
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
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof(resp));
  resp.id = 0x7fffffffffffull;  // no such notification
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (ioctl(static_cast<int>(fd), SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno == ENOENT)
    bits |= 2;
  struct seccomp_notif_addfd addfd;
  memset(&addfd, 0, sizeof(addfd));
  addfd.id = 0x7fffffffffffull;
  addfd.srcfd = 0;
  if (ioctl(static_cast<int>(fd), SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) != 0 && errno == ENOENT)
    bits |= 4;
  return bits;
}

int own_seccomp_mode() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Seccomp:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return 0;
}

}  // namespace

KernelFeatures probe_kernel() {
  KernelFeatures f;
  struct utsname u;
  if (uname(&u) == 0) f.release = u.release;
  f.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0;
  f.seccomp_mode_now = own_seccomp_mode();
  f.seccomp_filter = action_available(SECCOMP_RET_ERRNO) && action_available(SECCOMP_RET_ALLOW);
  bool notif_action = f.seccomp_filter && action_available(SECCOMP_RET_USER_NOTIF);

  if (notif_action && f.no_new_privs) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) == 0) {
      pid_t pid = fork();
      if (pid == 0) {
        close(pipefd[0]);
        unsigned char bits = static_cast<unsigned char>(probe_listener_in_child());
        ssize_t n = write(pipefd[1], &bits, 1);
        _exit(n == 1 ? 0 : 1);
      }
      close(pipefd[1]);
      unsigned char bits = 0;
      if (pid > 0) {
        ssize_t n;
        do n = read(pipefd[0], &bits, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1) bits = 0;
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
      }
      close(pipefd[0]);
      f.user_notif = bits & 1;
      f.notif_continue = bits & 2;
      f.notif_addfd = bits & 4;
    }
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
