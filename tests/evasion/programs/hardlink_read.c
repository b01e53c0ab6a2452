/* A hard link to the secret in an allowed directory: the secret's content
 * under a new, innocent path. Raw system calls only. */
#include "evasion.h"
int main(void) {
  char link_path[4096];
  snprintf(link_path, sizeof link_path, "%s/hardlink", ev("EV_WORK"));
  long rc = syscall(SYS_linkat, AT_FDCWD, ev("EV_SECRET"), AT_FDCWD, link_path, 0);
  result("linkat(secret, work/hardlink)", rc);
  long fd = syscall(SYS_openat, AT_FDCWD, link_path, O_RDONLY);
  result("openat(work/hardlink)", fd);
  if (fd >= 0) dump_fd("hardlink secret", (int)fd);
  return 0;
}
