/* A symbolic link in an allowed directory pointing at the secret, opened by
 * its innocent name. */
#include "evasion.h"
int main(void) {
  char link_path[4096];
  snprintf(link_path, sizeof link_path, "%s/innocent", ev("EV_WORK"));
  result("symlink(secret, work/innocent)", symlink(ev("EV_SECRET"), link_path));
  int fd = open(link_path, O_RDONLY);
  result("open(work/innocent)", fd);
  if (fd >= 0) dump_fd("symlink secret", fd);
  return 0;
}
