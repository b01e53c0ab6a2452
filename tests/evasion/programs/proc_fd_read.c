/* Open the secret with O_PATH (no read access asked), then reopen it for
 * reading through /proc/self/fd/N, a path that does not name the secret. */
#include "evasion.h"
int main(void) {
  long fd = syscall(SYS_openat, AT_FDCWD, ev("EV_SECRET"), O_PATH);
  result("openat(secret, O_PATH)", fd);
  if (fd < 0) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%ld", fd);
  int rfd = open(path, O_RDONLY);
  result("open(/proc/self/fd/N, O_RDONLY)", rfd);
  if (rfd >= 0) dump_fd("proc fd secret", rfd);
  return 0;
}
