/* vfork then a raw execve in the child, which shares the parent's memory. */
#include "evasion.h"
#include <sys/wait.h>
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  pid_t pid = vfork();
  if (pid == 0) {
    syscall(SYS_execve, "/usr/bin/touch", argv, environ);
    _exit(100 + errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("result: vfork child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
