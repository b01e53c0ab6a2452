// Raw system calls for the exec and network hooks. These bypass libc (and
// therefore every hook, including the file hooks) so that the enforcer's own
// look-ups (open the program to hash or probe it, read /proc/self/fd links,
// find the cwd) never re-enter the enforcer, never allocate and never touch
// errno. Each returns the kernel's result: >= 0, or -errno.
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace fnguard::enforcer::sys {

// syscall(2) sets errno; these wrappers restore it and return -errno instead.
inline long call(long number, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  int saved = errno;
  long r = ::syscall(number, a, b, c, d, e);
  if (r < 0) r = -errno;
  errno = saved;
  return r;
}

inline int openat(int dirfd, const char* path, int flags, int mode = 0) {
  return static_cast<int>(
      call(SYS_openat, dirfd, reinterpret_cast<long>(path), flags | O_CLOEXEC, mode));
}
// openat2(2) with RESOLVE_NO_SYMLINKS: succeeds only when no component of
// `path` is a symbolic link (with O_NOFOLLOW a trailing link itself is
// opened), fails with -ELOOP when one is, and with -ENOSYS (or -E2BIG,
// -EINVAL, -EPERM under some filters) where openat2 is unavailable.
inline int openat_no_symlinks(int dirfd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(static_cast<unsigned>(flags | O_CLOEXEC));
  how.resolve = RESOLVE_NO_SYMLINKS;
  return static_cast<int>(call(SYS_openat2, dirfd, reinterpret_cast<long>(path),
                               reinterpret_cast<long>(&how), static_cast<long>(sizeof how)));
}
inline int close(int fd) { return static_cast<int>(call(SYS_close, fd)); }
inline long pread(int fd, void* buf, size_t len, uint64_t offset) {
  return call(SYS_pread64, fd, reinterpret_cast<long>(buf), static_cast<long>(len),
              static_cast<long>(offset));
}
inline long readlinkat(int dirfd, const char* path, char* buf, size_t cap) {
  return call(SYS_readlinkat, dirfd, reinterpret_cast<long>(path), reinterpret_cast<long>(buf),
              static_cast<long>(cap));
}
inline long getcwd(char* buf, size_t cap) {
  return call(SYS_getcwd, reinterpret_cast<long>(buf), static_cast<long>(cap));
}
inline int faccessat(int dirfd, const char* path, int mode) {
  return static_cast<int>(call(SYS_faccessat, dirfd, reinterpret_cast<long>(path), mode));
}
inline int fstat(int fd, struct stat* st) {
  return static_cast<int>(call(SYS_fstat, fd, reinterpret_cast<long>(st)));
}

// Writes "/proc/self/fd/<fd>" into out (needs 32 bytes).
inline void proc_fd_path(int fd, char out[32]) {
  const char* prefix = "/proc/self/fd/";
  size_t n = 0;
  while (prefix[n] != '\0') {
    out[n] = prefix[n];
    ++n;
  }
  char digits[12];
  int d = 0;
  unsigned v = fd < 0 ? 0u : static_cast<unsigned>(fd);
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (d > 0) out[n++] = digits[--d];
  out[n] = '\0';
}

// The target of /proc/self/fd/<fd> (the path the kernel has for the open
// file; "/memfd:name (deleted)", "/tmp/x (deleted)", "socket:[..]").
// Returns its length or -errno. Always NUL-terminates when cap > 0.
inline long fd_target(int fd, char* out, size_t cap) {
  char link[32];
  proc_fd_path(fd, link);
  long n = readlinkat(AT_FDCWD, link, out, cap > 0 ? cap - 1 : 0);
  if (cap > 0) out[n > 0 ? n : 0] = '\0';
  if (n >= 0 && static_cast<size_t>(n) >= cap - 1) return -ENAMETOOLONG;
  return n;
}

}  // namespace fnguard::enforcer::sys
