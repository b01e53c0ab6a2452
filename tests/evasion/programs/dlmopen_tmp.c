/* dlmopen of a library written to a writable directory: the same loading
 * as dlopen, into a new link-map namespace. */
#include "evasion.h"
#include <dlfcn.h>
int main(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/payload.so", ev("EV_WORK"));
  result("copy payload to the work directory", copy_file(ev("EV_PAYLOAD"), path, 0755));
  void* h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW);
  if (h == NULL) printf("result: dlmopen failed: %s\n", dlerror());
  else printf("result: dlmopen succeeded\n");
  return 0;
}
