// The seccomp-bpf filter of the kernel backstop: refuses the calls in
// denylist.h and, when exec supervision is on, hands every execve/execveat to
// the supervisor through seccomp user notification (exec_supervisor.h).
//
// The filter is built with libseccomp (ahead of time, or before fork in the
// supervisor) and exported as a finished BPF program; the child after fork only runs
// install_filter(), which is two system calls and therefore async-signal-safe
// (libseccomp's own seccomp_load allocates, which a child forked from a
// threaded parent must not do).
//
// Limits, stated plainly:
// - Only the native architecture's calls are allowed; a call made through
//   another ABI (int 0x80 i386 calls, x32) kills the process.
// - A filter sees registers, not memory: it can refuse socket(AF_PACKET) but
//   not check a path or a sockaddr. Paths are for the preload and Landlock;
//   exec paths go to the supervisor via user notification.
// - Signals, resource limits and SIGIO ownership aimed at the supervisor are
//   refused by its pid and process group; ids of its other threads only with
//   a listener, through the supervisor (denylist.h). A pidfd obtained by
//   opening /proc/<pid> and pidfd_send_signal is not refused (Landlock's
//   signal scope, ABI 6, closes that on kernels that have it).
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "fnguard/common/result.h"

namespace fnguard::kernel {

struct FilterSpec {
  bool refuse_denylist = true;  // the calls in denylist.h
  bool supervise_exec = false;  // execve/execveat -> SECCOMP_RET_USER_NOTIF
  // Refused calls go to the supervisor too (which answers with the table's
  // errno and emits an event) instead of failing silently in the kernel.
  // Needs the same listener as supervise_exec. clone3 stays silent: glibc
  // tries it for every thread and process it creates.
  bool notify_denylist = false;
  pid_t supervisor_pid = 0;   // signals, pidfds, limits aimed here are refused (0: none)
  pid_t supervisor_pgid = 0;  // kill(-pgid), F_SETOWN(-pgid) refused (0: none or unseen)
};

struct BpfProgram {
  std::vector<struct sock_filter> insns;
};

// Builds the filter and exports the BPF. Allocates; call before fork. For
// the native architecture and a spec with both supervisor ids this is a copy
// of a program libseccomp generated ahead of time (bpf_template.h; about a
// microsecond instead of 50-150 us of libseccomp on every start); otherwise
// libseccomp builds it now. Both give the same filter.
Result<BpfProgram> build_filter(const FilterSpec& spec);

// The numbers the filter compares arguments with (low 32 bits): the
// supervisor's pid and the negated process group (kill(-pgid)).
struct FilterValues {
  std::optional<uint32_t> pid;
  std::optional<uint32_t> neg_pgid;
};
FilterValues filter_values(const FilterSpec& spec);

// libseccomp's program for `spec` on architecture `arch` (an SCMP_ARCH_*
// token, 0 for the native one) with the given values. build_filter() without
// the template; the template generator and its equivalence test use it.
Result<BpfProgram> build_filter_with_libseccomp(const FilterSpec& spec, uint32_t arch,
                                                const FilterValues& values);

// In the child after fork (async-signal-safe): sets no_new_privs and loads
// `program`. With `new_listener`, returns the user-notification listener fd;
// otherwise 0. On failure returns -errno and loads nothing.
int install_filter(const BpfProgram& program, bool new_listener);

}  // namespace fnguard::kernel
