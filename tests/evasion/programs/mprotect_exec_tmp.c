/* Map a file written to a writable directory readable, then make the
 * mapping executable with mprotect and call into it: the mmap hook sees no
 * PROT_EXEC, and which file backs a mapping is not known at mprotect. */
#include <sys/mman.h>

#include "evasion.h"
int main(void) {
  int fd = write_code_file();
  if (fd < 0) return 0;
  void* p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    result("mmap(PROT_READ)", -1);
    return 0;
  }
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) {
    result("mprotect(PROT_EXEC)", -1);
    return 0;
  }
  run_code(p);
  return 0;
}
