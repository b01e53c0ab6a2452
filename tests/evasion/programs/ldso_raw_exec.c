/* The dynamic loader running a denied program, exec'd with a raw system
 * call: the preload never sees it; exec supervision reads the argument
 * vector from the process and decides the program the loader will run. */
#include "evasion.h"
static const char* loader(void) {
  static const char* const candidates[] = {"/lib64/ld-linux-x86-64.so.2",
                                           "/lib/ld-linux-aarch64.so.1", NULL};
  for (int i = 0; candidates[i] != NULL; ++i) {
    if (access(candidates[i], X_OK) == 0) return candidates[i];
  }
  return "/lib64/ld-linux-x86-64.so.2";
}
int main(void) {
  char* argv[] = {(char*)"ld.so", (char*)"/usr/bin/touch", (char*)ev("EV_MARKER"), NULL};
  extern char** environ;
  long rc = syscall(SYS_execve, loader(), argv, environ);
  result("syscall(SYS_execve, ld.so, /usr/bin/touch)", rc);
  return 0;
}
