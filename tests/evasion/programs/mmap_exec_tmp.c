/* Map a file written to a writable directory with PROT_EXEC and call into
 * it: machine code from /tmp runs without any exec or dlopen. */
#include "evasion.h"
#include <sys/mman.h>
int main(void) {
  int fd = write_code_file();
  if (fd < 0) return 0;
  void* p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) { result("mmap(PROT_EXEC)", -1); return 0; }
  run_code(p);
  return 0;
}
