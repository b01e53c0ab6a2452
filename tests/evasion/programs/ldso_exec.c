/* Run a denied program through the dynamic loader: `ld.so /usr/bin/touch`
 * exec's the loader, which maps touch itself and runs it, so no exec of
 * touch ever happens. The loader's options come first, as an attacker
 * would add them. */
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
  char* argv[] = {(char*)"ld.so", (char*)"--inhibit-cache", (char*)"--argv0", (char*)"touch",
                  (char*)"/usr/bin/touch", (char*)ev("EV_MARKER"), NULL};
  execv(loader(), argv);
  result("execv(ld.so, /usr/bin/touch)", -1);
  return 0;
}
