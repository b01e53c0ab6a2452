/* Clear the environment (LD_PRELOAD, FNGUARD_ENFORCER) and exec a shell with
 * an empty one, hoping it starts unprotected; the shell then runs the
 * forbidden program. */
#include "evasion.h"
int main(void) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "/usr/bin/touch %s", ev("EV_MARKER"));
  clearenv();
  char* const argv[] = {(char*)"sh", (char*)"-c", cmd, NULL};
  char* const envp[] = {NULL};
  execve("/bin/sh", argv, envp);
  result("execve(/bin/sh) with an empty environment", -1);
  return 0;
}
