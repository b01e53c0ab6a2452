/* clone() with a fresh stack, then a raw execve in the child. */
#include "evasion.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
extern char** environ;
static int child(void* arg) {
  (void)arg;
  TOUCH_ARGV(argv);
  syscall(SYS_execve, "/usr/bin/touch", argv, environ);
  return 100 + errno;
}
int main(void) {
  static char stack[256 * 1024];
  pid_t pid = clone(child, stack + sizeof stack, SIGCHLD, NULL);
  result("clone", pid);
  int status = 0;
  waitpid(pid, &status, 0);
  printf("result: clone child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
