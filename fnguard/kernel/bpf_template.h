// Seccomp programs generated ahead of time, so that starting a protected
// process does not run libseccomp (50-150 us of its CPU on every cold start,
// see docs/BENCHMARKS.md). bpf_templates.inc holds libseccomp's own output
// for every FilterSpec combination on x86_64 and aarch64, built by
// fnguard_bpf_template_gen with two stand-in numbers where the supervisor's
// pid and negated process group go; at run time the stand-ins are replaced.
//
// Why this is the same filter: the program is libseccomp's (architecture
// check, 64-bit argument comparisons, binary tree), and the stand-ins only
// ever appear as the constant of an equality jump (the generator refuses
// anything else), so replacing them changes which value is compared and
// nothing about the shape. tests/unit/kernel_bpf_template_test.cc runs every
// template, patched with several pid/group pairs, against libseccomp's
// program built for the same values in a BPF interpreter, over every system
// call number and the argument values the rules care about; it fails when
// libseccomp's output or denylist.h changes without regenerating:
//
//   cmake --build <dir> --target fnguard_bpf_template_gen
//   <dir>/bin/fnguard_bpf_template_gen > fnguard/kernel/bpf_templates.inc
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "fnguard/kernel/seccomp_filter.h"

namespace fnguard::kernel {

// Stand-ins for the supervisor's values. Neither can be a real one: pids
// are below 2^22 (PID_MAX_LIMIT) and a negated process group is at least
// 2^32 - 2^22; nor is either a constant the rules use.
inline constexpr uint32_t kTemplatePid = 0x5eed0001u;
inline constexpr uint32_t kTemplateNegPgid = 0x5eed0002u;

struct BpfTemplate {
  uint32_t arch;  // AUDIT_ARCH_* (the same numbers as SCMP_ARCH_*)
  bool refuse_denylist;
  bool supervise_exec;
  bool notify_denylist;
  const struct sock_filter* insns;
  size_t count;
};

// Every generated template, all architectures.
const BpfTemplate* bpf_templates(size_t* count);

// The template's program with the stand-ins replaced by `values` (both must
// be set). nullopt if a stand-in sits anywhere but in an equality jump.
std::optional<BpfProgram> instantiate_template(const BpfTemplate& t, const FilterValues& values);

// The program for `spec` on the native architecture from its template;
// nullopt when there is none (an architecture without templates, a spec
// without both supervisor ids, or a kernel that lacks an action the program
// uses, where libseccomp's own checks must decide as before).
std::optional<BpfProgram> program_from_template(const FilterSpec& spec);

}  // namespace fnguard::kernel
