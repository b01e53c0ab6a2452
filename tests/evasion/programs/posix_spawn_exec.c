/* posix_spawn: glibc starts the child with clone(CLONE_VM|CLONE_VFORK) and
 * execs from inside libc. */
#include "evasion.h"
#include <spawn.h>
#include <sys/wait.h>
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/usr/bin/touch", NULL, NULL, argv, environ);
  printf("result: posix_spawn returned %d (%s)\n", rc, strerror(rc));
  if (rc == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    printf("result: child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  return 0;
}
