/* An allowed program exec'd with a raw system call and LD_LIBRARY_PATH
 * naming the writable work directory, where a dropped library would stand
 * in for one the program loads (libc.so.6 for the shell). The preload never
 * sees the exec; exec supervision reads the environment from the process
 * and decides the search path's directories. If it runs, the shell creates
 * the marker. */
#include "evasion.h"
int main(void) {
  char path[4096 + 32], marker[4096 + 32];
  snprintf(path, sizeof path, "LD_LIBRARY_PATH=%s", ev("EV_WORK"));
  snprintf(marker, sizeof marker, "EV_MARKER=%s", ev("EV_MARKER"));
  char* argv[] = {(char*)"sh", (char*)"-c", (char*)": > \"$EV_MARKER\"", NULL};
  char* envp[] = {path, marker, NULL};
  long rc = syscall(SYS_execve, "/bin/sh", argv, envp);
  result("syscall(SYS_execve, /bin/sh) with LD_LIBRARY_PATH in the work directory", rc);
  return 0;
}
