/* execveat(fd, "", AT_EMPTY_PATH): exec an open descriptor, no path string. */
#include "evasion.h"
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  int fd = (int)syscall(SYS_openat, AT_FDCWD, "/usr/bin/touch", O_RDONLY | O_CLOEXEC);
  result("open /usr/bin/touch", fd);
  long rc = syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
  result("execveat(fd, \"\", AT_EMPTY_PATH)", rc);
  return 0;
}
