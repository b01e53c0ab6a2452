/* A child that kills the supervisor (SIGKILL, then SIGSTOP, then every
 * process with kill(-1)), hoping execs then go undecided; afterwards the
 * forbidden exec is tried. */
#include "evasion.h"
#include <signal.h>
#include <sys/wait.h>
extern char** environ;
int main(void) {
  pid_t sup = getppid();
  pid_t pid = fork();
  if (pid == 0) {
    result("kill(supervisor, SIGKILL)", kill(sup, SIGKILL));
    result("kill(supervisor, SIGSTOP)", kill(sup, SIGSTOP));
    result("tgkill(supervisor, SIGKILL)", syscall(SYS_tgkill, sup, sup, SIGKILL));
    result("kill(-1, SIGKILL)", syscall(SYS_kill, -1, SIGKILL));
    _exit(0);
  }
  waitpid(pid, NULL, 0);
  printf("result: supervisor %s\n", kill(sup, 0) == 0 || errno == EPERM ? "still there" : "gone");
  fflush(stdout);
  TOUCH_ARGV(argv);
  result("syscall(SYS_execve, /usr/bin/touch) after the attack",
         syscall(SYS_execve, "/usr/bin/touch", argv, environ));
  return 0;
}
