// A small shared library that Python test programs load with ctypes
// (enforcer_python_source_test.cc) to build the GIL situations the
// enforcer's Python source lookup must survive:
//
//   open_after(path, ms)   (ctypes.CDLL: called with the GIL released)
//       sleeps `ms`, then open(path); returns open's result, or -errno;
//   hold_until_opened(ms)  (ctypes.PyDLL: called with the GIL held)
//       keeps the GIL until open_after's open() has returned, at most `ms`;
//       returns 1 when it did, 0 when it gave up (a deadlock: the open
//       could not finish while this thread held the GIL);
//   vfork_exec(path)       (ctypes.CDLL) vfork, then execv(path) in the
//       child (as CPython 3.12+'s subprocess does with the GIL released);
//       returns the child's exit status, 127 when the exec failed.
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace {
std::atomic<bool> g_opened{false};

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}
}  // namespace

extern "C" __attribute__((visibility("default"))) int open_after(const char* path, int ms) {
  sleep_ms(ms);
  int fd = open(path, O_RDONLY);
  int result = fd >= 0 ? fd : -errno;
  if (fd >= 0) close(fd);
  g_opened.store(true);
  return result;
}

extern "C" __attribute__((visibility("default"))) int hold_until_opened(int ms) {
  for (int waited = 0; waited < ms; waited += 5) {
    if (g_opened.load()) return 1;
    sleep_ms(5);
  }
  return g_opened.load() ? 1 : 0;
}

extern "C" __attribute__((visibility("default"))) int vfork_exec(const char* path) {
  pid_t pid = vfork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>(path), nullptr};
    execv(path, argv);
    _exit(127);
  }
  if (pid < 0) return -errno;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
