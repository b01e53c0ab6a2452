/* memfd_create + fexecve: the program to run never touches the file system
 * (the classic fileless-malware pattern). */
#include "evasion.h"
#include <sys/mman.h>
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  int mfd = memfd_create("payload", MFD_CLOEXEC);
  result("memfd_create", mfd);
  int in = open("/usr/bin/touch", O_RDONLY);
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(mfd, buf, (size_t)n) != n) break;
  }
  close(in);
  fexecve(mfd, argv, environ);
  result("fexecve(memfd)", -1);
  long rc = syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
  result("execveat(memfd, AT_EMPTY_PATH)", rc);
  return 0;
}
