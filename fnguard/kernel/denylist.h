// THE list of system calls the kernel backstop refuses to a protected process,
// in one place, each with the reason. A serverless function never needs them;
// an attacker who got code execution loves them. The seccomp filter
// (seccomp_filter.cc) is generated from this table and nothing else, and
// docs/THREAT_MODEL.md prints it.
//
// Refused calls fail with the errno given (EPERM unless said otherwise); the
// process is not killed, so a program that probes for a feature (glibc tries
// clone3 before clone, Python tries io_uring nowhere) carries on.
#pragma once

#include <cstddef>

namespace fnguard::kernel {

// How a table entry constrains its arguments.
enum class ArgMatch {
  kAlways,             // every call is refused
  kSocketPacket,       // socket(AF_PACKET, ...)
  kSocketRaw,          // socket(*, SOCK_RAW | flags, ...)
  kCloneNamespace,     // clone(flags) with any CLONE_NEW* bit
  kTargetsSupervisor,  // kill/tkill/tgkill/pidfd_open aimed at the supervisor pid, or kill(-1)
};

struct DeniedSyscall {
  const char* name;  // libseccomp's name for it
  ArgMatch match;
  int error;  // errno returned
  const char* reason;
};

// The table, and its length.
const DeniedSyscall* denied_syscalls(size_t* count);

}  // namespace fnguard::kernel
