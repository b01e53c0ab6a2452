/* Exec through inline assembly: no libc function at all between the program
 * and the kernel. x86_64 and aarch64. */
#include "evasion.h"
extern char** environ;
static long raw_execve(const char* path, char* const argv[], char* const envp[]) {
  long ret;
#if defined(__x86_64__)
  __asm__ volatile("syscall" : "=a"(ret) : "a"(59L), "D"(path), "S"(argv), "d"(envp) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = 221;
  register long x0 __asm__("x0") = (long)path;
  register long x1 __asm__("x1") = (long)argv;
  register long x2 __asm__("x2") = (long)envp;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  ret = x0;
#else
#error "asm_execve: unsupported architecture"
#endif
  return ret;
}
int main(void) {
  TOUCH_ARGV(argv);
  long rc = raw_execve("/usr/bin/touch", argv, environ);
  if (rc < 0) { errno = (int)-rc; rc = -1; }
  result("inline asm execve(/usr/bin/touch)", rc);
  return 0;
}
