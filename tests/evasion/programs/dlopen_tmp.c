/* Write a shared library to a writable directory and dlopen it: code that
 * was never installed runs inside the process (its constructor creates the
 * marker). */
#include "evasion.h"
#include <dlfcn.h>
int main(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/payload.so", ev("EV_WORK"));
  result("copy payload to the work directory", copy_file(ev("EV_PAYLOAD"), path, 0755));
  void* h = dlopen(path, RTLD_NOW);
  if (h == NULL) printf("result: dlopen failed: %s\n", dlerror());
  else printf("result: dlopen succeeded\n");
  return 0;
}
