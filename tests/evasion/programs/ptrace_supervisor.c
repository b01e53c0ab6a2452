/* Attach to the supervisor (our parent, fnguard) with ptrace, to patch its
 * decisions or steal its descriptors. */
#include "evasion.h"
#include <sys/ptrace.h>
int main(void) {
  pid_t sup = getppid();
  long rc = ptrace(PTRACE_ATTACH, sup, NULL, NULL);
  result("ptrace(PTRACE_ATTACH, supervisor)", rc);
  rc = syscall(SYS_process_vm_readv, sup, NULL, 0, NULL, 0, 0);
  result("process_vm_readv(supervisor)", rc);
  return 0;
}
