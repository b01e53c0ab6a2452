/* A symbolic link in an allowed directory pointing into a write-denied
 * directory; the file is created through the link with a raw openat. */
#include "evasion.h"
int main(void) {
  char link_path[4096], target[4096];
  snprintf(link_path, sizeof link_path, "%s/looks-allowed", ev("EV_WORK"));
  snprintf(target, sizeof target, "%s/through-symlink", ev("EV_DENIED"));
  result("symlink(denied/through-symlink, work/looks-allowed)", symlink(target, link_path));
  long fd = syscall(SYS_openat, AT_FDCWD, link_path, O_WRONLY | O_CREAT, 0644);
  result("openat(work/looks-allowed, O_CREAT)", fd);
  return 0;
}
