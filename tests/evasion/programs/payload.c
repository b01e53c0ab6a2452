/* The library the dlopen evasion writes to /tmp: its constructor creates
 * EV_MARKER, proving that its code ran. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
__attribute__((constructor)) static void payload_ran(void) {
  const char* marker = getenv("EV_MARKER");
  if (marker != NULL) {
    long fd = syscall(SYS_openat, AT_FDCWD, marker, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) close((int)fd);
  }
}
