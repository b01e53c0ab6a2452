/* Create a file in a write-denied directory with a raw openat2. */
#include "evasion.h"
#include <linux/openat2.h>
int main(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/openat2", ev("EV_DENIED"));
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_WRONLY | O_CREAT;
  how.mode = 0644;
  long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  result("openat2(denied/openat2, O_CREAT)", fd);
  return 0;
}
