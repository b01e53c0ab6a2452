// The refused system calls. Keep this table the only place the list lives;
// docs/THREAT_MODEL.md quotes it (tests/unit/kernel_filter_test.cc checks
// the refusals take effect).
#include "fnguard/kernel/denylist.h"

#include <errno.h>

namespace fnguard::kernel {
namespace {

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
    {"socket", ArgMatch::kSocketRaw, EPERM, "raw sockets forge traffic and bypass connect rules"},
    // The supervisor lives outside the protected process; it must stay alive
    // and unsignalled (it decides every exec).
    {"kill", ArgMatch::kTargetsSupervisor, EPERM, "signals the supervisor"},
    {"tkill", ArgMatch::kTargetsSupervisor, EPERM, "signals the supervisor"},
    {"tgkill", ArgMatch::kTargetsSupervisor, EPERM, "signals the supervisor"},
    {"pidfd_open", ArgMatch::kTargetsSupervisor, EPERM, "takes a handle on the supervisor"},
};

}  // namespace

const DeniedSyscall* denied_syscalls(size_t* count) {
  *count = sizeof(kTable) / sizeof(kTable[0]);
  return kTable;
}

}  // namespace fnguard::kernel
