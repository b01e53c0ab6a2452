/* Tamper with the enforcer's policy image: map the sealed image memfd
 * writable, write it through /proc/self/mem (which ignores page
 * protections), reopen it read-write through /proc/self/fd; then try the
 * forbidden exec to see whether protection survived. */
#include "evasion.h"
#include <sys/mman.h>
extern char** environ;
int main(void) {
  int image_fd = 1019;  /* fnguard/enforcer/protocol.h kFirstFd */
  struct stat st;
  if (fstat(image_fd, &st) != 0) { result("fstat(image fd)", -1); return 0; }
  void* w = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, image_fd, 0);
  result("mmap(image, PROT_WRITE, MAP_SHARED)", w == MAP_FAILED ? -1 : 0);
  void* r = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, image_fd, 0);
  result("mprotect(image, PROT_WRITE)", r == MAP_FAILED ? -1 : mprotect(r, 4096, PROT_READ | PROT_WRITE));
  int mem = open("/proc/self/mem", O_RDWR);
  if (mem >= 0 && r != MAP_FAILED) {
    unsigned char zero[64] = {0};
    result("pwrite(/proc/self/mem, image)", pwrite(mem, zero, sizeof zero, (off_t)(uintptr_t)r + 64));
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", image_fd);
  int rw = open(path, O_RDWR);
  result("open(/proc/self/fd/<image>, O_RDWR)", rw);
  if (rw >= 0) result("write(image)", pwrite(rw, "XXXX", 4, 0));
  result("ftruncate(image)", ftruncate(image_fd, 0));
  TOUCH_ARGV(argv);
  result("syscall(SYS_execve, /usr/bin/touch) after tampering",
         syscall(SYS_execve, "/usr/bin/touch", argv, environ));
  return 0;
}
