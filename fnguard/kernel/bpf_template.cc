// Looks up and patches the generated seccomp programs. See bpf_template.h.
#include "fnguard/kernel/bpf_template.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fnguard::kernel {
namespace {

#include "fnguard/kernel/bpf_templates.inc"

#if defined(__x86_64__) && !defined(__ILP32__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
constexpr uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kNativeArch = 0;  // no templates: libseccomp at run time
#endif

constexpr uint16_t kJeqK = BPF_JMP | BPF_JEQ | BPF_K;

bool action_available(uint32_t action) {
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

}  // namespace

const BpfTemplate* bpf_templates(size_t* count) {
  *count = sizeof(kGeneratedTemplates) / sizeof(kGeneratedTemplates[0]);
  return kGeneratedTemplates;
}

std::optional<BpfProgram> instantiate_template(const BpfTemplate& t, const FilterValues& values) {
  if (!values.pid || !values.neg_pgid) return std::nullopt;
  BpfProgram program;
  program.insns.assign(t.insns, t.insns + t.count);
  for (struct sock_filter& insn : program.insns) {
    if (insn.k != kTemplatePid && insn.k != kTemplateNegPgid) continue;
    if (insn.code != kJeqK) return std::nullopt;
    insn.k = insn.k == kTemplatePid ? *values.pid : *values.neg_pgid;
  }
  return program;
}

std::optional<BpfProgram> program_from_template(const FilterSpec& spec) {
  if (kNativeArch == 0) return std::nullopt;
  const FilterValues values = filter_values(spec);
  if (!values.pid || !values.neg_pgid) return std::nullopt;
  // libseccomp refuses an action the kernel does not offer; so do we, by
  // leaving those kernels to it.
  if (!action_available(SECCOMP_RET_KILL_PROCESS)) return std::nullopt;
  if (spec.supervise_exec && !action_available(SECCOMP_RET_USER_NOTIF)) return std::nullopt;
  size_t count = 0;
  const BpfTemplate* all = bpf_templates(&count);
  for (size_t i = 0; i < count; ++i) {
    const BpfTemplate& t = all[i];
    if (t.arch == kNativeArch && t.refuse_denylist == spec.refuse_denylist &&
        t.supervise_exec == spec.supervise_exec && t.notify_denylist == spec.notify_denylist) {
      return instantiate_template(t, values);
    }
  }
  return std::nullopt;
}

}  // namespace fnguard::kernel
