/* ".." traversal: name the secret through the allowed work directory. */
#include "evasion.h"
int main(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/../secret/./data", ev("EV_WORK"));
  int fd = open(path, O_RDONLY);
  result("open(work/../secret/./data)", fd);
  if (fd >= 0) dump_fd("dotdot secret", fd);
  return 0;
}
