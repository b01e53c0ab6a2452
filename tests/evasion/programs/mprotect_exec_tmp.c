/* Map a file written to a writable directory readable, then make the
 * mapping executable with mprotect and call into it: the mmap hook sees no
 * PROT_EXEC, and which file backs a mapping is not known at mprotect. */
#include <sys/mman.h>

#include "evasion.h"
int main(void) {
#if defined(__x86_64__)
  const unsigned char code[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3}; /* mov eax, 42; ret */
#elif defined(__aarch64__)
  const unsigned char code[] = {0x40, 0x05, 0x80, 0x52,
                                0xc0, 0x03, 0x5f, 0xd6}; /* mov w0,#42; ret */
#endif
  char path[4096];
  snprintf(path, sizeof path, "%s/code.bin", ev("EV_WORK"));
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
  result("write code to the work directory", fd);
  if (fd < 0) return 0;
  if (write(fd, code, sizeof code) != (ssize_t)sizeof code) return 0;
  void* p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) {
    result("mmap(PROT_READ)", -1);
    return 0;
  }
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) {
    result("mprotect(PROT_EXEC)", -1);
    return 0;
  }
  int (*fn)(void) = (int (*)(void))p;
  int v = fn();
  printf("result: code from the writable file ran and returned %d\n", v);
  if (v == 42) {
    int m = open(ev("EV_MARKER"), O_WRONLY | O_CREAT, 0644);
    if (m >= 0) close(m);
  }
  return 0;
}
