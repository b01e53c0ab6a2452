// Builds the kernel backstop's seccomp filter from denylist.h with libseccomp
// (ahead of time for the common specs, see bpf_template.h).
//
// Why libseccomp rather than hand-written BPF: it resolves syscall names per
// architecture, emits the architecture check, compares 64-bit arguments
// correctly on 32-bit BPF, and orders the rules into a balanced tree; each of
// these is a classic source of bypasses in hand-written filters (see
// docs/THREAT_MODEL.md, "Dependencies"). We still load the exported program
// ourselves so the child does not allocate after fork.
#include "fnguard/kernel/seccomp_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "fnguard/kernel/bpf_template.h"
#include "fnguard/kernel/denylist.h"

namespace fnguard::kernel {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

// Integer arguments are 32-bit in the kernel (pid_t, int); a caller may leave
// garbage in the upper half of the register, which the kernel ignores. Compare
// the low 32 bits only so that garbage cannot slip past the rule.
constexpr uint64_t kLow32 = 0xffffffffull;

Error seccomp_error(const char* what, int rc) {
  return make_error(std::string("cannot build the seccomp filter: ") + what + ": " + strerror(-rc),
                    "run `fnguard doctor` to see what this kernel offers");
}

int add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned count = 0,
        const struct scmp_arg_cmp* cmp = nullptr) {
  return seccomp_rule_add_array(ctx, action, nr, count, cmp);
}

int add_entry(scmp_filter_ctx ctx, const DeniedSyscall& entry, const FilterSpec& spec,
              const FilterValues& values) {
  // The native number: libseccomp translates it by name for the filter's
  // architecture (which is not the native one for the template generator).
  int nr = seccomp_syscall_resolve_name(entry.name);
  if (nr == __NR_SCMP_ERROR) return 0;  // not on this architecture: nothing to refuse
  uint32_t action = SCMP_ACT_ERRNO(static_cast<uint32_t>(entry.error));
  if (spec.notify_denylist && spec.supervise_exec && entry.error == EPERM) action = SCMP_ACT_NOTIFY;
  // Calls that accept any of the supervisor's thread ids go to the
  // supervisor, which knows them (denylist.h, supervisor_decides()); the
  // rules below then only widen what reaches it.
  const bool supervisor_looks = action == SCMP_ACT_NOTIFY && entry.any_thread;
  // Every rule of one syscall is OR-ed; the comparisons of one rule AND-ed.
  auto add_rules = [&](std::initializer_list<std::vector<struct scmp_arg_cmp>> rules) {
    for (const std::vector<struct scmp_arg_cmp>& r : rules) {
      if (int rc = add(ctx, action, nr, static_cast<unsigned>(r.size()), r.data()); rc != 0)
        return rc;
    }
    return 0;
  };
  const struct scmp_arg_cmp a2_set = SCMP_A2(SCMP_CMP_NE, 0);
  switch (entry.match) {
    case ArgMatch::kAlways:
      return add(ctx, action, nr);
    case ArgMatch::kSocketPacket:
      return add_rules({{SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, AF_PACKET)}});
    case ArgMatch::kSocketRaw:
      // The type argument carries SOCK_NONBLOCK/SOCK_CLOEXEC above the type
      // bits. IP families only: a netlink socket is SOCK_RAW too, and is how
      // getifaddrs (Node's os.networkInterfaces) lists interfaces.
      return add_rules({{SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, AF_INET),
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)},
                        {SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, AF_INET6),
                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)}});
    case ArgMatch::kCloneNamespace: {
      // One rule per flag.
      const uint64_t flags[] = {
          CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
          CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET, 0x80 /* CLONE_NEWTIME */};
      for (uint64_t f : flags) {
        if (int rc = add_rules({{SCMP_A0(SCMP_CMP_MASKED_EQ, f, f)}}); rc != 0) return rc;
      }
      return 0;
    }
    case ArgMatch::kCommand:
      return add_rules({{SCMP_A1(SCMP_CMP_MASKED_EQ, kLow32, entry.value)}});
    case ArgMatch::kCommandWithValue:
      return add_rules({{SCMP_A1(SCMP_CMP_MASKED_EQ, kLow32, entry.value), a2_set}});
    case ArgMatch::kFlag:
      return add_rules({{SCMP_A1(SCMP_CMP_MASKED_EQ, entry.value, entry.value)}});
    case ArgMatch::kTargetsSupervisor:
    case ArgMatch::kKillsSupervisor: {
      if (supervisor_looks) return add(ctx, action, nr);
      std::vector<uint64_t> targets;
      if (values.pid) targets.push_back(*values.pid);
      if (entry.match == ArgMatch::kKillsSupervisor) {
        targets.push_back(kLow32);  // kill(-1): every process we may signal
        if (values.neg_pgid) targets.push_back(*values.neg_pgid);
        // kill(0): the caller's group, which holds the supervisor at start;
        // refused also when that group is one this PID namespace cannot see
        // (no neg_pgid), since kill(0) still reaches it.
        if (values.pid || values.neg_pgid) targets.push_back(0);
      }
      for (uint64_t t : targets) {
        if (int rc = add_rules({{SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, t)}}); rc != 0) return rc;
      }
      return 0;
    }
    case ArgMatch::kLimitsSupervisor:
      // pid 0 is the caller itself (glibc's setrlimit): never handed over.
      if (supervisor_looks) return add_rules({{SCMP_A0(SCMP_CMP_NE, 0), a2_set}});
      if (!values.pid) return 0;
      return add_rules({{SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, *values.pid), a2_set}});
    case ArgMatch::kOwnerIsSupervisor: {
      const struct scmp_arg_cmp setown = SCMP_A1(SCMP_CMP_MASKED_EQ, kLow32, F_SETOWN);
      if (supervisor_looks) return add_rules({{setown}});
      if (values.pid) {
        if (int rc = add_rules({{setown, SCMP_A2(SCMP_CMP_MASKED_EQ, kLow32, *values.pid)}});
            rc != 0)
          return rc;
      }
      if (values.neg_pgid) {
        return add_rules({{setown, SCMP_A2(SCMP_CMP_MASKED_EQ, kLow32, *values.neg_pgid)}});
      }
      return 0;
    }
  }
  return -EINVAL;
}

}  // namespace

FilterValues filter_values(const FilterSpec& spec) {
  FilterValues v;
  if (spec.supervisor_pid > 0) v.pid = static_cast<uint32_t>(spec.supervisor_pid);
  if (spec.supervisor_pgid > 0) v.neg_pgid = static_cast<uint32_t>(-spec.supervisor_pgid);
  return v;
}

Result<BpfProgram> build_filter_with_libseccomp(const FilterSpec& spec, uint32_t arch,
                                                const FilterValues& values) {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return make_error("cannot build the seccomp filter: libseccomp could not start");
  if (arch != 0 && arch != seccomp_arch_native()) {
    if (int rc = seccomp_arch_add(ctx.get(), arch); rc != 0) return seccomp_error("architecture", rc);
    if (int rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE); rc != 0)
      return seccomp_error("architecture", rc);
  }
  // Another architecture's calls are not described by this filter: kill.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc != 0) {
    return seccomp_error("bad-architecture action", rc);
  }
  // A binary tree of syscall numbers instead of a linear chain: the allowed
  // path (every syscall the program makes) then costs a few comparisons
  // whatever the denylist's length.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0) {
    return seccomp_error("binary-tree optimisation", rc);
  }
  if (spec.refuse_denylist) {
    size_t count = 0;
    const DeniedSyscall* table = denied_syscalls(&count);
    for (size_t i = 0; i < count; ++i) {
      if (int rc = add_entry(ctx.get(), table[i], spec, values); rc != 0) {
        return seccomp_error(table[i].name, rc);
      }
    }
  }
  if (spec.supervise_exec) {
    for (int nr : {SCMP_SYS(execve), SCMP_SYS(execveat)}) {
      if (int rc = add(ctx.get(), SCMP_ACT_NOTIFY, nr); rc != 0) {
        return seccomp_error("exec supervision (user notification)", rc);
      }
    }
  }
  // Export through a memfd: libseccomp 2.5 writes the program to a descriptor.
  int fd = memfd_create("fnguard-bpf", MFD_CLOEXEC);
  if (fd < 0)
    return make_error(std::string("cannot export the seccomp filter: ") + strerror(errno));
  int rc = seccomp_export_bpf(ctx.get(), fd);
  off_t size = lseek(fd, 0, SEEK_END);
  BpfProgram program;
  if (rc == 0 && size > 0 && size % sizeof(struct sock_filter) == 0) {
    program.insns.resize(static_cast<size_t>(size) / sizeof(struct sock_filter));
    if (pread(fd, program.insns.data(), static_cast<size_t>(size), 0) != size) rc = -EIO;
  } else if (rc == 0) {
    rc = -EIO;
  }
  close(fd);
  if (rc != 0) return seccomp_error("export", rc);
  return program;
}

Result<BpfProgram> build_filter(const FilterSpec& spec) {
  // The common case costs a copy: libseccomp's own output for this spec,
  // generated ahead of time (bpf_template.h). Anything without a template
  // (another architecture, no supervisor pid) is built now.
  if (std::optional<BpfProgram> fast = program_from_template(spec)) return std::move(*fast);
  return build_filter_with_libseccomp(spec, 0, filter_values(spec));
}

int install_filter(const BpfProgram& program, bool new_listener) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(program.insns.size());
  prog.filter = const_cast<struct sock_filter*>(program.insns.data());
  unsigned flags = new_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) return -errno;
  return new_listener ? static_cast<int>(rc) : 0;
}

}  // namespace fnguard::kernel
