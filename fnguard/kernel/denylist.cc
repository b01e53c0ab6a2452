// The refused system calls. Keep this table the only place the list lives;
// docs/THREAT_MODEL.md quotes it (tests/unit/kernel_filter_test.cc checks
// the refusals take effect, kernel_exec_test.cc the supervisor's part).
#include "fnguard/kernel/denylist.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace fnguard::kernel {
namespace {

// Linux 6.9: pidfd_open() of any thread, not only a thread-group leader.
// Debian 12's headers predate it.
constexpr uint64_t kPidfdThread = O_EXCL;

constexpr DeniedSyscall kTable[] = {
    // io_uring performs open, connect, read and write from kernel workers,
    // with no system call per operation for a filter or a preload to see.
    {"io_uring_setup", ArgMatch::kAlways, EPERM, "io_uring bypasses per-syscall checks"},
    {"io_uring_enter", ArgMatch::kAlways, EPERM, "io_uring bypasses per-syscall checks"},
    {"io_uring_register", ArgMatch::kAlways, EPERM, "io_uring bypasses per-syscall checks"},
    // Reading or writing another process's memory or registers: the way to
    // patch the enforcer out of a sibling, or to inject into the supervisor.
    {"ptrace", ArgMatch::kAlways, EPERM, "debugging another process is code injection"},
    {"process_vm_writev", ArgMatch::kAlways, EPERM, "writes another process's memory"},
    {"process_vm_readv", ArgMatch::kAlways, EPERM, "reads another process's memory"},
    {"kcmp", ArgMatch::kAlways, EPERM, "probes other processes' kernel objects"},
    // Kernel attack surface and kernel configuration.
    {"bpf", ArgMatch::kAlways, EPERM, "loads programs into the kernel"},
    {"perf_event_open", ArgMatch::kAlways, EPERM, "kernel attack surface; side channels"},
    {"userfaultfd", ArgMatch::kAlways, EPERM, "stalls the kernel mid-copy; an exploit primitive"},
    {"init_module", ArgMatch::kAlways, EPERM, "loads kernel modules"},
    {"finit_module", ArgMatch::kAlways, EPERM, "loads kernel modules"},
    {"delete_module", ArgMatch::kAlways, EPERM, "unloads kernel modules"},
    {"kexec_load", ArgMatch::kAlways, EPERM, "replaces the running kernel"},
    {"kexec_file_load", ArgMatch::kAlways, EPERM, "replaces the running kernel"},
    {"add_key", ArgMatch::kAlways, EPERM, "kernel keyring attack surface"},
    {"request_key", ArgMatch::kAlways, EPERM, "kernel keyring attack surface"},
    {"keyctl", ArgMatch::kAlways, EPERM, "kernel keyring attack surface"},
    // Changing what paths mean: a new mount or root makes path rules lie.
    {"mount", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"umount2", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"pivot_root", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"chroot", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"move_mount", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"open_tree", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"fsopen", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"fsconfig", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"fsmount", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"fspick", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    {"mount_setattr", ArgMatch::kAlways, EPERM, "changes what paths mean"},
    // Namespaces: a new user namespace hands out capabilities and new mount
    // and network namespaces escape path and network rules.
    {"unshare", ArgMatch::kAlways, EPERM, "creates namespaces"},
    {"setns", ArgMatch::kAlways, EPERM, "enters other namespaces"},
    {"clone", ArgMatch::kCloneNamespace, EPERM, "clone with CLONE_NEW* creates namespaces"},
    // clone3 passes its flags in memory, which a seccomp filter cannot read.
    // ENOSYS makes glibc (2.34+) fall back to clone, whose flags it can.
    {"clone3", ArgMatch::kAlways, ENOSYS,
     "flags in memory are invisible to the filter; libc falls back to clone"},
    // Raw and packet sockets: forging traffic, sniffing, and bypassing
    // connect()-based network rules.
    {"socket", ArgMatch::kSocketPacket, EPERM, "packet sockets sniff and forge traffic"},
    {"socket", ArgMatch::kSocketRaw, EPERM,
     "raw IP sockets forge traffic and bypass connect rules"},
    // A file handle names a file with no path, past every path rule (it
    // needs CAP_DAC_READ_SEARCH, which a function running as root has).
    {"open_by_handle_at", ArgMatch::kAlways, EPERM, "opens files by handle, past path rules"},
    // The supervisor lives outside the protected process; it must stay alive,
    // unsignalled and within its resource limits (it decides every exec). The
    // protected code has the supervisor's uid, so the kernel lets it do all
    // of these unless refused here (or Landlock's signal scope, Linux 6.12+,
    // refuses the signals). kill and rt_sigqueueinfo take any thread's id
    // and signal the whole process (any_thread, see denylist.h).
    {"kill", ArgMatch::kKillsSupervisor, EPERM, "signals the supervisor", 0, true},
    {"rt_sigqueueinfo", ArgMatch::kTargetsSupervisor, EPERM, "signals the supervisor", 0, true},
    // tgkill and rt_tgsigqueueinfo name the thread group first; the kernel
    // refuses a thread that is not in it, so the supervisor's pid covers all
    // its threads.
    {"tgkill", ArgMatch::kTargetsSupervisor, EPERM, "signals the supervisor"},
    {"rt_tgsigqueueinfo", ArgMatch::kTargetsSupervisor, EPERM, "signals the supervisor"},
    // tkill names a bare thread id, which the filter cannot tell from the
    // supervisor's threads; it is deprecated, and glibc signals threads with
    // tgkill.
    {"tkill", ArgMatch::kAlways, EPERM,
     "signals a thread by id alone (deprecated; libc uses tgkill)"},
    // A pidfd signals, and lets pidfd_getfd copy descriptors. Without
    // PIDFD_THREAD (Linux 6.9) pidfd_open takes only a thread-group leader.
    {"pidfd_open", ArgMatch::kTargetsSupervisor, EPERM, "takes a handle on the supervisor"},
    {"pidfd_open", ArgMatch::kFlag, EPERM,
     "PIDFD_THREAD takes a handle on any thread, the supervisor's included", kPidfdThread},
    {"pidfd_getfd", ArgMatch::kAlways, EPERM,
     "copies another process's descriptors (the supervisor's seccomp listener)"},
    // A 1-second RLIMIT_CPU kills the supervisor; RLIMIT_NOFILE 0 stops it
    // polling. Setting one's own limits (pid 0, as glibc's setrlimit does)
    // and reading anyone's stay allowed.
    {"prlimit64", ArgMatch::kLimitsSupervisor, EPERM, "changes the supervisor's resource limits", 0,
     true},
    // SIGIO (or the signal F_SETSIG chose) goes to a descriptor's owner when
    // I/O is ready. F_SETOWN with a register argument is compared; the other
    // ways to set an owner pass it in memory, which the filter cannot read;
    // CPython and Node/libuv use none of the four (strace, see
    // docs/THREAT_MODEL.md). F_SETSIG would turn SIGIO into SIGKILL.
    {"fcntl", ArgMatch::kOwnerIsSupervisor, EPERM, "sends the supervisor SIGIO (F_SETOWN)", 0,
     true},
    {"fcntl", ArgMatch::kCommand, EPERM,
     "F_SETOWN_EX names a signal owner in memory the filter cannot read", F_SETOWN_EX},
    {"fcntl", ArgMatch::kCommandWithValue, EPERM,
     "F_SETSIG picks the signal sent to a descriptor's owner (SIGKILL included)", F_SETSIG},
    {"ioctl", ArgMatch::kCommand, EPERM,
     "FIOSETOWN names a socket's signal owner in memory the filter cannot read", FIOSETOWN},
    {"ioctl", ArgMatch::kCommand, EPERM,
     "SIOCSPGRP names a socket's signal owner in memory the filter cannot read", SIOCSPGRP},
};

uint32_t low32(uint64_t v) { return static_cast<uint32_t>(v); }

// The supervisor, by its pid, or by the id of one of its threads where the
// kernel takes one.
bool names_supervisor(uint32_t id, const SupervisorIds& ids, bool any_thread) {
  const pid_t pid = static_cast<pid_t>(id);
  if (pid <= 0) return false;
  if (ids.pid > 0 && pid == ids.pid) return true;
  return any_thread && ids.is_thread && ids.is_thread(pid);
}

// -pgid, as the 32-bit value a caller passes for "the supervisor's group".
bool names_group(uint32_t v, const SupervisorIds& ids) {
  return ids.pgid > 0 && v == static_cast<uint32_t>(-static_cast<int64_t>(ids.pgid));
}

}  // namespace

const DeniedSyscall* denied_syscalls(size_t* count) {
  *count = sizeof(kTable) / sizeof(kTable[0]);
  return kTable;
}

bool call_matches(const DeniedSyscall& entry, const uint64_t args[6], const SupervisorIds& ids) {
  switch (entry.match) {
    case ArgMatch::kAlways:
      return true;
    case ArgMatch::kSocketPacket:
      return low32(args[0]) == AF_PACKET;
    case ArgMatch::kSocketRaw:
      return (low32(args[0]) == AF_INET || low32(args[0]) == AF_INET6) &&
             (args[1] & 0xf) == SOCK_RAW;
    case ArgMatch::kCloneNamespace:
      return (args[0] & (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                         CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x80 /* CLONE_NEWTIME */)) !=
             0;
    case ArgMatch::kCommand:
      return low32(args[1]) == entry.value;
    case ArgMatch::kCommandWithValue:
      // The filter compares all 64 bits with 0 (libseccomp has no masked
      // "not equal"): upper-half garbage over a 0 is refused too.
      return low32(args[1]) == entry.value && args[2] != 0;
    case ArgMatch::kFlag:
      return (args[1] & entry.value) != 0;
    case ArgMatch::kTargetsSupervisor:
      return names_supervisor(low32(args[0]), ids, entry.any_thread);
    case ArgMatch::kKillsSupervisor: {
      const uint32_t v = low32(args[0]);
      if (v == 0xffffffffu) return true;  // kill(-1): everyone we may signal
      if (v == 0) {
        // kill(0): the caller's group, which holds the supervisor when shared.
        // The group is no register argument: the kernel reads it again when
        // the call continues, and another thread may setpgid() into the
        // supervisor's group meanwhile (a review, tenth session of
        // 2026-11-23). That is possible only inside the supervisor's session,
        // so the call continues only from a session proven to be another
        // (setsid). A session this PID namespace cannot see reads as 0: the
        // caller's unknown one may be ours (refuse); ours unseen and the
        // caller's seen means two sessions (CI runs us under a session leader
        // outside our namespace, 2026-11-24).
        if (ids.caller_sid <= 0) return true;
        return ids.sid > 0 && ids.caller_sid == ids.sid;
      }
      return names_group(v, ids) || names_supervisor(v, ids, entry.any_thread);
    }
    case ArgMatch::kLimitsSupervisor:
      return args[2] != 0 && names_supervisor(low32(args[0]), ids, entry.any_thread);
    case ArgMatch::kOwnerIsSupervisor:
      return low32(args[1]) == F_SETOWN &&
             (names_group(low32(args[2]), ids) ||
              names_supervisor(low32(args[2]), ids, entry.any_thread));
  }
  return true;  // an entry this code does not know: refuse
}

bool supervisor_decides(const DeniedSyscall& entry, const uint64_t args[6]) {
  if (!entry.any_thread) return false;
  switch (entry.match) {
    case ArgMatch::kTargetsSupervisor:
    case ArgMatch::kKillsSupervisor:
      return true;  // every call: the id may be any process's or thread's
    case ArgMatch::kLimitsSupervisor:
      return args[0] != 0 && args[2] != 0;  // new limits for a process named by id
    case ArgMatch::kOwnerIsSupervisor:
      return low32(args[1]) == F_SETOWN;
    default:
      return false;
  }
}

}  // namespace fnguard::kernel
