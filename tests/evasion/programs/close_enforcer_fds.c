/* Tear down the enforcer's state from inside: close its descriptors (policy
 * image, context, events) with a raw close_range the preload cannot
 * intercept, unset LD_PRELOAD and FNGUARD_ENFORCER, then exec the forbidden
 * program from the "unprotected" process. */
#include "evasion.h"
extern char** environ;
int main(void) {
  result("close_range(1019, 1030) (raw)", syscall(SYS_close_range, 1019, 1030, 0));
  unsetenv("LD_PRELOAD");
  unsetenv("FNGUARD_ENFORCER");
  TOUCH_ARGV(argv);
  result("syscall(SYS_execve, /usr/bin/touch) without the enforcer's state",
         syscall(SYS_execve, "/usr/bin/touch", argv, environ));
  return 0;
}
