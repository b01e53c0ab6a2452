/* Exec a memfd through its /proc/self/fd/N path (and /dev/fd/N), with a raw
 * execve: the path names the caller's descriptor, so a supervisor that
 * resolved "/proc/self" as itself would check the wrong file. */
#include "evasion.h"
#include <sys/mman.h>
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  int mfd = memfd_create("payload", 0);
  int in = open("/usr/bin/touch", O_RDONLY);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(mfd, buf, (size_t)n) != n) break;
  }
  close(in);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
  result("syscall(SYS_execve, /proc/self/fd/<memfd>)", syscall(SYS_execve, path, argv, environ));
  snprintf(path, sizeof path, "/dev/fd/%d", mfd);
  result("syscall(SYS_execve, /dev/fd/<memfd>)", syscall(SYS_execve, path, argv, environ));
  return 0;
}
