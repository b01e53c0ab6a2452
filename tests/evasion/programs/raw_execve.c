/* Exec through a raw system call: syscall(SYS_execve) skips libc's execve
 * wrapper, so the preload's exec hook never sees it. */
#include "evasion.h"
extern char** environ;
int main(void) {
  TOUCH_ARGV(argv);
  long rc = syscall(SYS_execve, "/usr/bin/touch", argv, environ);
  result("syscall(SYS_execve, /usr/bin/touch)", rc);
  return 0;
}
