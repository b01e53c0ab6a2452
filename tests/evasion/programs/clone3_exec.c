/* clone3 (flags passed in memory, invisible to a seccomp filter), then a raw
 * execve in the child. If clone3 is refused, fall back to clone the way
 * glibc does and try the exec from there. */
#include "evasion.h"
#include <linux/sched.h>
#include <signal.h>
#include <sys/wait.h>
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  result("clone3", pid);
  if (pid < 0) pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    syscall(SYS_execve, "/usr/bin/touch", argv, environ);
    _exit(100 + errno);
  }
  int status = 0;
  waitpid((pid_t)pid, &status, 0);
  printf("result: child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
