/* Move the secret over a file in the allowed work directory, then read it
 * under the allowed name. Raw system calls only. */
#include "evasion.h"
int main(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/allowed.txt", ev("EV_WORK"));
  long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT, 0644);
  if (fd >= 0) close((int)fd);
  long rc = syscall(SYS_renameat2, AT_FDCWD, ev("EV_SECRET"), AT_FDCWD, path, 0);
  result("renameat2(secret -> work/allowed.txt)", rc);
  fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
  if (fd >= 0) dump_fd("renamed secret", (int)fd);
  return 0;
}
