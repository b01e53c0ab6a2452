// Keeps the enforcer's descriptors (policy image, context page, events
// socket) alive in the protected process, so that protection reaches every
// child even when a program closes "all" descriptors at start or before exec
// (Python's subprocess close_fds=True, daemonising code, closefrom()).
//
// Behaviour on an enforcer descriptor:
// - close(fd): returns 0 without closing. The program believes the number is
//   free; the next open cannot get it (it is still taken), which is harmless.
// - close_range()/closefrom(): split around the enforcer's descriptors, so
//   everything else is closed (or marked close-on-exec with
//   CLOSE_RANGE_CLOEXEC; CLOSE_RANGE_UNSHARE is passed on to every part).
// - dup2()/dup3() onto one: refused with EBADF, as if the number were out of
//   range. Moving our descriptor elsewhere is not an option: children find
//   it by the number in FNGUARD_ENFORCER. Programs that pick such high fixed
//   numbers are rare; failing loudly beats silently losing protection.
// - fcntl(F_SETFD) and ioctl(FIOCLEX) setting close-on-exec: ignored
//   (returns success), so exec keeps the descriptor.
// - glibc's public aliases __close, __dup2 and __fcntl behave the same.
//
// Not covered: the raw close/close_range/dup2 system calls (syscall(2),
// inline assembly, static binaries); the seccomp backstop (issue 3) is the
// answer there.
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>

#include "fnguard/enforcer/runtime.h"

// Public glibc aliases that no header declares.
extern "C" int __close(int);
extern "C" int __dup2(int, int);
extern "C" int __fcntl(int, int, ...);

namespace fnguard::enforcer {
namespace {

// Applies close_range to [first, last] except the enforcer's descriptors.
int close_range_except_own(unsigned first, unsigned last, unsigned flags) {
  int own[4];
  size_t n = own_fds(own, 4);
  unsigned from = first;
  for (size_t i = 0; i < n; ++i) {
    unsigned fd = static_cast<unsigned>(own[i]);
    if (fd < from || fd > last) continue;
    if (fd > from && syscall(SYS_close_range, from, fd - 1, flags) != 0) return -1;
    if (fd == UINT_MAX) return 0;
    from = fd + 1;
  }
  if (from > last) return 0;
  return static_cast<int>(syscall(SYS_close_range, from, last, flags));
}

}  // namespace

FNGUARD_EXPORT int close(int fd) {
  if (is_own_fd(fd)) return 0;
  return REAL(close)(fd);
}

// glibc's public aliases (__close, __dup2, __fcntl) are the same functions
// under other names: they get the same treatment.
FNGUARD_EXPORT int __close(int fd) {
  if (is_own_fd(fd)) return 0;
  return REAL(__close)(fd);
}

FNGUARD_EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  if (!active() || first > last) return REAL(close_range)(first, last, flags);
  return close_range_except_own(first, last, static_cast<unsigned>(flags));
}

FNGUARD_EXPORT void closefrom(int lowfd) {
  if (!active() || lowfd < 0) {
    REAL(closefrom)(lowfd);
    return;
  }
  ErrnoSaver errno_saver;  // closefrom() does not report errors
  if (close_range_except_own(static_cast<unsigned>(lowfd), UINT_MAX, 0) != 0) {
    // No close_range in this kernel: close one by one, sparing ours.
    for (int fd = lowfd; fd < 65536; ++fd) {
      if (!is_own_fd(fd)) syscall(SYS_close, fd);
    }
  }
}

FNGUARD_EXPORT int dup2(int oldfd, int newfd) {
  if (is_own_fd(newfd) && oldfd != newfd) {
    errno = EBADF;
    return -1;
  }
  return REAL(dup2)(oldfd, newfd);
}

FNGUARD_EXPORT int __dup2(int oldfd, int newfd) {
  if (is_own_fd(newfd) && oldfd != newfd) {
    errno = EBADF;
    return -1;
  }
  return REAL(__dup2)(oldfd, newfd);
}

FNGUARD_EXPORT int dup3(int oldfd, int newfd, int flags) {
  if (is_own_fd(newfd) && oldfd != newfd) {
    errno = EBADF;
    return -1;
  }
  return REAL(dup3)(oldfd, newfd, flags);
}

namespace {

int fcntl_common(int fd, int cmd, va_list ap, int (*real)(int, int, ...)) {
  // Every fcntl argument is an int, a pointer, or absent; passing a
  // pointer-sized value covers all of them on Linux ABIs.
  void* arg = va_arg(ap, void*);
  if (cmd == F_SETFD && is_own_fd(fd)) {
    long flags = reinterpret_cast<long>(arg);
    if ((flags & FD_CLOEXEC) != 0) return 0;
  }
  return real(fd, cmd, arg);
}

}  // namespace

FNGUARD_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  int r = fcntl_common(fd, cmd, ap, REAL(fcntl));
  va_end(ap);
  return r;
}

FNGUARD_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  int r = fcntl_common(fd, cmd, ap, REAL(fcntl64));
  va_end(ap);
  return r;
}

FNGUARD_EXPORT int __fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  int r = fcntl_common(fd, cmd, ap, REAL(__fcntl));
  va_end(ap);
  return r;
}

FNGUARD_EXPORT int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (request == FIOCLEX && is_own_fd(fd)) return 0;
  return REAL(ioctl)(fd, request, arg);
}

}  // namespace fnguard::enforcer
