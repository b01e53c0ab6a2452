// THE list of system calls the kernel backstop refuses to a protected process,
// in one place, each with the reason. A serverless function never needs them;
// an attacker who got code execution loves them. The seccomp filter
// (seccomp_filter.cc) is generated from this table and nothing else, the
// supervisor decides the calls the filter hands it with call_matches() below,
// and docs/THREAT_MODEL.md prints it.
//
// Refused calls fail with the errno given (EPERM unless said otherwise); the
// process is not killed, so a program that probes for a feature (glibc tries
// clone3 before clone, Python tries io_uring nowhere) carries on.
//
// Limit, stated plainly: the filter knows the supervisor's pid and process
// group, not the ids of its threads. kill, rt_sigqueueinfo, prlimit64 and
// fcntl(F_SETOWN) accept any thread's id and act on the whole process. With
// a user-notification listener (Linux 5.5+, whenever exec supervision runs)
// the filter hands those calls to the supervisor, which refuses the ones that
// name one of its threads and lets the rest continue (their arguments are
// registers, so there is no time-of-check window on the value; kill(0),
// whose target is the caller's group, is refused from the supervisor's
// session, see call_matches). Without a listener only the pid and the group
// are compared.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>

namespace fnguard::kernel {

// How a table entry constrains its arguments. Integer arguments are compared
// on their low 32 bits, as the kernel reads them.
enum class ArgMatch {
  kAlways,             // every call is refused
  kSocketPacket,       // socket(AF_PACKET, ...)
  kSocketRaw,          // socket(AF_INET or AF_INET6, SOCK_RAW | flags, ...)
  kCloneNamespace,     // clone(flags) with any CLONE_NEW* bit
  kCommand,            // arg1 == value: an fcntl or ioctl command
  kCommandWithValue,   // arg1 == value and arg2 != 0: fcntl(fd, F_SETSIG, signal)
  kFlag,               // arg1 has the bit `value`: pidfd_open(pid, PIDFD_THREAD)
  kTargetsSupervisor,  // arg0 is the supervisor's pid (tgkill and rt_tgsigqueueinfo: its tgid)
  kKillsSupervisor,    // kill(pid): the supervisor's pid, -1 (everyone), 0 or -pgid (its group)
  kLimitsSupervisor,   // prlimit64(pid, resource, new, old): new limits for the supervisor
  kOwnerIsSupervisor,  // fcntl(fd, F_SETOWN, owner): SIGIO for the supervisor (pid or -pgid)
};

struct DeniedSyscall {
  const char* name;  // libseccomp's name for it
  ArgMatch match;
  int error;  // errno returned
  const char* reason;
  uint64_t value = 0;  // kCommand, kCommandWithValue, kFlag: the constant compared with
  // The kernel also accepts the id of any of the supervisor's threads here and
  // acts on the whole process (see the limit above): with a listener, the
  // supervisor looks at every such call.
  bool any_thread = false;
};

// The table, and its length.
const DeniedSyscall* denied_syscalls(size_t* count);

// Who the supervisor is, for deciding whether a call aims at it.
struct SupervisorIds {
  pid_t pid = 0;   // 0: none
  pid_t pgid = 0;  // 0: none
  // The supervisor's and the caller's sessions, for kill(0), as this PID
  // namespace sees them: 0 when not visible here (a leader outside it) or
  // unknown. kill(0) continues only when the caller's session is seen and is
  // not the supervisor's (denylist.cc says why sessions, not groups).
  pid_t sid = 0;
  pid_t caller_sid = 0;
  // True when `id` is one of the supervisor's threads. Unset: only the pid
  // counts, which is all the kernel filter can compare.
  std::function<bool(pid_t id)> is_thread;
};

// True when a call with these arguments is refused by `entry`. With
// `ids.is_thread` unset this is exactly what the filter built from the entry
// without a listener refuses (tests/unit/kernel_bpf_template_test.cc checks
// it against the BPF program).
bool call_matches(const DeniedSyscall& entry, const uint64_t args[6], const SupervisorIds& ids);

// True when a filter with a listener hands this call to the supervisor for
// `entry` because only the supervisor can tell whether an id is one of its
// threads (entries with any_thread). Such a call that call_matches() does not
// refuse continues.
bool supervisor_decides(const DeniedSyscall& entry, const uint64_t args[6]);

}  // namespace fnguard::kernel
