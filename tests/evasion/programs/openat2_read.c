/* Read the secret with openat2 through a raw system call (glibc 2.36 has no
 * wrapper, so nothing in libc is involved). */
#include "evasion.h"
#include <linux/openat2.h>
int main(void) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_RDONLY;
  long fd = syscall(SYS_openat2, AT_FDCWD, ev("EV_SECRET"), &how, sizeof how);
  result("openat2(secret, O_RDONLY)", fd);
  if (fd >= 0) dump_fd("openat2 secret", (int)fd);
  return 0;
}
