// The seccomp programs generated ahead of time (bpf_template.h) decide every
// system call exactly as the program libseccomp builds at run time for the
// same supervisor pid and process group: for both architectures, every
// FilterSpec combination, several pid/group pairs, run side by side in a
// classic-BPF interpreter over every syscall number, foreign architectures,
// x32 numbers, and the argument values the rules compare (with garbage in
// the upper 32 bits). Fails when libseccomp, denylist.h or seccomp_filter.cc
// change without regenerating bpf_templates.inc. And the program refuses (or
// hands to the supervisor) exactly what denylist.h's call_matches() and
// supervisor_decides() say, which is what the supervisor decides with.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fnguard/kernel/bpf_template.h"
#include "fnguard/kernel/denylist.h"
#include "fnguard/kernel/seccomp_filter.h"

namespace fnguard::kernel {
namespace {

constexpr uint32_t kBadProgram = 0xbadbadu;  // the interpreter met something it does not know

// Classic BPF as the kernel runs it for seccomp (the subset a seccomp
// program may use). Returns the action, or kBadProgram.
uint32_t run_bpf(const std::vector<struct sock_filter>& prog, const struct seccomp_data& d) {
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  unsigned char bytes[sizeof(d)];
  std::memcpy(bytes, &d, sizeof(d));
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const struct sock_filter& i = prog[pc];
    const uint32_t src = BPF_SRC(i.code) == BPF_X ? x : i.k;
    switch (BPF_CLASS(i.code)) {
      case BPF_LD:
        if (i.code == (BPF_LD | BPF_W | BPF_ABS)) {
          if (i.k % 4 != 0 || i.k + 4 > sizeof(bytes)) return kBadProgram;
          std::memcpy(&a, bytes + i.k, 4);
        } else if (i.code == (BPF_LD | BPF_IMM)) {
          a = i.k;
        } else if (i.code == (BPF_LD | BPF_MEM) && i.k < BPF_MEMWORDS) {
          a = mem[i.k];
        } else {
          return kBadProgram;
        }
        break;
      case BPF_LDX:
        if (i.code == (BPF_LDX | BPF_IMM)) {
          x = i.k;
        } else if (i.code == (BPF_LDX | BPF_MEM) && i.k < BPF_MEMWORDS) {
          x = mem[i.k];
        } else {
          return kBadProgram;
        }
        break;
      case BPF_ST:
        if (i.k >= BPF_MEMWORDS) return kBadProgram;
        mem[i.k] = a;
        break;
      case BPF_STX:
        if (i.k >= BPF_MEMWORDS) return kBadProgram;
        mem[i.k] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(i.code)) {
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_MUL: a *= src; break;
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_XOR: a ^= src; break;
          case BPF_LSH: a = src < 32 ? a << src : 0; break;
          case BPF_RSH: a = src < 32 ? a >> src : 0; break;
          case BPF_NEG: a = -a; break;
          default: return kBadProgram;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(i.code) == BPF_JA) {
          pc += i.k;
          break;
        }
        bool taken;
        switch (BPF_OP(i.code)) {
          case BPF_JEQ: taken = a == src; break;
          case BPF_JGT: taken = a > src; break;
          case BPF_JGE: taken = a >= src; break;
          case BPF_JSET: taken = (a & src) != 0; break;
          default: return kBadProgram;
        }
        pc += taken ? i.jt : i.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      case BPF_MISC:
        if (BPF_MISCOP(i.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        return kBadProgram;
    }
  }
  return kBadProgram;  // fell off the end
}

struct Pair {
  pid_t pid;
  pid_t pgid;
};

// Argument values the rules compare, and neighbours.
std::vector<uint64_t> argument_values(const Pair& p) {
  std::vector<uint64_t> low = {0,
                               1,
                               2,
                               3,
                               0xf,
                               AF_PACKET,
                               AF_INET,
                               AF_INET6,
                               AF_NETLINK,
                               SOCK_RAW | SOCK_CLOEXEC,
                               SOCK_RAW | SOCK_NONBLOCK,
                               SOCK_STREAM,
                               SIGCHLD,
                               CLONE_NEWNS,
                               CLONE_NEWCGROUP,
                               CLONE_NEWUTS,
                               CLONE_NEWIPC,
                               CLONE_NEWUSER,
                               CLONE_NEWPID,
                               CLONE_NEWNET,
                               0x80,
                               SIGKILL,
                               F_SETOWN,
                               F_SETSIG,
                               F_SETOWN_EX,
                               F_GETOWN_EX,
                               FIOSETOWN,
                               SIOCSPGRP,
                               CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD,
                               CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD,
                               static_cast<uint32_t>(p.pid),
                               static_cast<uint32_t>(p.pid + 1),
                               static_cast<uint32_t>(-p.pgid),
                               static_cast<uint32_t>(p.pgid),
                               0xffffffffu,
                               0xfffffffeu,
                               kTemplatePid,
                               kTemplateNegPgid};
  std::vector<uint64_t> out;
  for (uint64_t v : low) {
    out.push_back(v);
    out.push_back(v | 0xdead00000000ull);
    out.push_back(v | 0xffffffff00000000ull);
  }
  return out;
}

// Runs both programs on `d`; returns a description of the first mismatch.
std::string compare(const std::vector<struct sock_filter>& want,
                    const std::vector<struct sock_filter>& got, const struct seccomp_data& d) {
  uint32_t w = run_bpf(want, d), g = run_bpf(got, d);
  if (w != kBadProgram && w == g) return {};
  char buf[256];
  std::snprintf(
      buf, sizeof(buf), "arch=%#x nr=%d args=%#llx,%#llx,%#llx: libseccomp %#x, template %#x",
      d.arch, d.nr, static_cast<unsigned long long>(d.args[0]),
      static_cast<unsigned long long>(d.args[1]), static_cast<unsigned long long>(d.args[2]), w, g);
  return buf;
}

TEST(BpfTemplate, EveryTemplateDecidesLikeLibseccomp) {
  const Pair pairs[] = {{4242, 4242}, {1, 1}, {4194303, 77}, {300, 12}};
  const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386,
                             AUDIT_ARCH_ARM};
  const char* arg_rule_calls[] = {
      "socket",    "clone", "kill", "tgkill", "pidfd_open", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
      "prlimit64", "fcntl", "ioctl"};
  // The calls whose rules also compare the third argument.
  const char* arg2_rule_calls[] = {"prlimit64", "fcntl"};
  size_t count = 0;
  const BpfTemplate* templates = bpf_templates(&count);
  ASSERT_EQ(count, 16u) << "8 spec combinations on x86_64 and aarch64";
  size_t checked = 0;
  for (size_t t = 0; t < count; ++t) {
    const BpfTemplate& tpl = templates[t];
    ASSERT_TRUE(tpl.arch == AUDIT_ARCH_X86_64 || tpl.arch == AUDIT_ARCH_AARCH64);
    FilterSpec spec;
    spec.refuse_denylist = tpl.refuse_denylist;
    spec.supervise_exec = tpl.supervise_exec;
    spec.notify_denylist = tpl.notify_denylist;
    std::vector<int> rule_nrs, arg2_rule_nrs;
    for (const char* name : arg_rule_calls) {
      int nr = seccomp_syscall_resolve_name_arch(tpl.arch, name);
      if (nr >= 0) rule_nrs.push_back(nr);
    }
    for (const char* name : arg2_rule_calls) {
      int nr = seccomp_syscall_resolve_name_arch(tpl.arch, name);
      if (nr >= 0) arg2_rule_nrs.push_back(nr);
    }
    ASSERT_GE(rule_nrs.size(), 10u);
    ASSERT_EQ(arg2_rule_nrs.size(), 2u);
    for (const Pair& p : pairs) {
      spec.supervisor_pid = p.pid;
      spec.supervisor_pgid = p.pgid;
      auto want = build_filter_with_libseccomp(spec, tpl.arch, filter_values(spec));
      ASSERT_TRUE(want) << want.error().to_string();
      auto got = instantiate_template(tpl, filter_values(spec));
      ASSERT_TRUE(got.has_value());
      const std::vector<uint64_t> values = argument_values(p);
      struct seccomp_data d;
      auto check = [&]() {
        std::string diff = compare(want->insns, got->insns, d);
        ++checked;
        return diff;
      };
      std::vector<int> nrs;
      for (int nr = 0; nr < 1100; ++nr) nrs.push_back(nr);
      for (int nr = 0; nr < 600; nr += 7) nrs.push_back(0x40000000 | nr);  // x32
      for (uint32_t nr : {0x3fffffffu, 0x7fffffffu, 0x80000000u, 0xffffffffu})
        nrs.push_back(static_cast<int>(nr));
      for (uint32_t arch : arches) {
        for (int nr : nrs) {
          std::memset(&d, 0, sizeof(d));
          d.arch = arch;
          d.nr = nr;
          std::string diff = check();
          ASSERT_EQ(diff, "") << "template " << t;
          d.args[0] = values[t % values.size()];
          d.args[1] = 0xffffffffffffffffull;
          diff = check();
          ASSERT_EQ(diff, "") << "template " << t;
        }
      }
      for (int nr : rule_nrs) {
        for (uint64_t a0 : values) {
          for (uint64_t a1 : values) {
            std::memset(&d, 0, sizeof(d));
            d.arch = tpl.arch;
            d.nr = nr;
            d.args[0] = a0;
            d.args[1] = a1;
            std::string diff = check();
            ASSERT_EQ(diff, "") << "template " << t;
          }
        }
      }
      const uint64_t first_args[] = {0, static_cast<uint32_t>(p.pid),
                                     static_cast<uint32_t>(p.pid + 1)};
      for (int nr : arg2_rule_nrs) {
        for (uint64_t a0 : first_args) {
          for (uint64_t a1 : values) {
            for (uint64_t a2 : values) {
              std::memset(&d, 0, sizeof(d));
              d.arch = tpl.arch;
              d.nr = nr;
              d.args[0] = a0;
              d.args[1] = a1;
              d.args[2] = a2;
              std::string diff = check();
              ASSERT_EQ(diff, "") << "template " << t;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

// What the BPF program does with a call is what the table says: without a
// listener it refuses exactly the calls call_matches() refuses (knowing only
// the supervisor's pid and group, as the filter does); with one, it hands
// the supervisor exactly the calls call_matches() refuses or
// supervisor_decides() leaves to it, and the supervisor's own decision
// therefore covers every call it is given.
TEST(BpfTemplate, TheProgramRefusesWhatTheTableSays) {
  const Pair pairs[] = {{4242, 4242}, {300, 12}};
  size_t count = 0;
  const DeniedSyscall* table = denied_syscalls(&count);
  std::map<int, std::vector<const DeniedSyscall*>> by_nr;
  for (size_t i = 0; i < count; ++i) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, table[i].name);
    ASSERT_GE(nr, 0) << table[i].name;
    by_nr[nr].push_back(&table[i]);
  }
  size_t checked = 0, refused = 0, handed_over = 0;
  for (bool listener : {false, true}) {
    for (const Pair& p : pairs) {
      FilterSpec spec;
      spec.supervise_exec = listener;
      spec.notify_denylist = listener;
      spec.supervisor_pid = p.pid;
      spec.supervisor_pgid = p.pgid;
      auto prog = build_filter_with_libseccomp(spec, SCMP_ARCH_X86_64, filter_values(spec));
      ASSERT_TRUE(prog) << prog.error().to_string();
      SupervisorIds ids;
      ids.pid = p.pid;
      ids.pgid = p.pgid;
      const std::vector<uint64_t> values = argument_values(p);
      for (const auto& [nr, entries] : by_nr) {
        const bool third = entries[0]->match == ArgMatch::kLimitsSupervisor ||
                           entries[0]->match == ArgMatch::kOwnerIsSupervisor;
        const std::vector<uint64_t> a2s =
            third ? values : std::vector<uint64_t>{0, 1, 0xdead00000000ull};
        for (uint64_t a0 : values) {
          for (uint64_t a1 : values) {
            for (uint64_t a2 : a2s) {
              if (third && a0 != 0 && a0 != static_cast<uint32_t>(p.pid) &&
                  a0 != (static_cast<uint32_t>(p.pid) | 0xdead00000000ull) && a0 != 1)
                continue;  // the third argument matters with these first ones
              struct seccomp_data d;
              std::memset(&d, 0, sizeof(d));
              d.arch = AUDIT_ARCH_X86_64;
              d.nr = nr;
              d.args[0] = a0;
              d.args[1] = a1;
              d.args[2] = a2;
              uint64_t args[6] = {a0, a1, a2, 0, 0, 0};
              uint32_t want = SECCOMP_RET_ALLOW;
              for (const DeniedSyscall* e : entries) {
                const bool notify = listener && e->error == EPERM;
                if (call_matches(*e, args, ids) || (notify && supervisor_decides(*e, args))) {
                  want = notify ? SECCOMP_RET_USER_NOTIF
                                : SECCOMP_RET_ERRNO | static_cast<uint32_t>(e->error);
                  break;
                }
              }
              uint32_t got = run_bpf(prog->insns, d);
              ASSERT_EQ(got, want) << entries[0]->name << " listener=" << listener
                                   << " args=" << std::hex << a0 << "," << a1 << "," << a2;
              ++checked;
              refused += want != SECCOMP_RET_ALLOW && !listener;
              handed_over += want == SECCOMP_RET_USER_NOTIF;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 100000u);
  EXPECT_GT(refused, 1000u);
  EXPECT_GT(handed_over, 1000u);
}

TEST(BpfTemplate, BuildFilterUsesTheNativeTemplateWithTheRealValues) {
#if (defined(__x86_64__) && !defined(__ILP32__)) || defined(__aarch64__)
  uint32_t kill_process = SECCOMP_RET_KILL_PROCESS, notify = SECCOMP_RET_USER_NOTIF;
  if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_process) != 0 ||
      syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &notify) != 0) {
    GTEST_SKIP() << "this kernel (or emulator) lacks an action the templates use";
  }
#else
  GTEST_SKIP() << "no templates for this architecture";
#endif
  // With a listener, kill and F_SETOWN go to the supervisor whatever their
  // target, so only the pid is compared in the kernel; without one, the
  // process group is too.
  for (bool listener : {true, false}) {
    FilterSpec spec;
    spec.supervise_exec = listener;
    spec.notify_denylist = listener;
    spec.supervisor_pid = getpid();
    // Not getpgrp(): as pid 1's group in a PID namespace it is 1, and -1 is
    // also the mask every kill rule uses.
    const pid_t pgid = 424242;
    spec.supervisor_pgid = pgid;
    std::optional<BpfProgram> fast = program_from_template(spec);
    ASSERT_TRUE(fast.has_value());
    auto built = build_filter(spec);
    ASSERT_TRUE(built);
    EXPECT_EQ(built->insns.size(), fast->insns.size());
    EXPECT_EQ(0, std::memcmp(built->insns.data(), fast->insns.data(),
                             fast->insns.size() * sizeof(struct sock_filter)));
    // The stand-ins are gone, the real values are in.
    bool has_pid = false, has_pgid = false;
    for (const struct sock_filter& i : built->insns) {
      EXPECT_NE(i.k, kTemplatePid);
      EXPECT_NE(i.k, kTemplateNegPgid);
      has_pid |= i.k == static_cast<uint32_t>(getpid());
      has_pgid |= i.k == static_cast<uint32_t>(-pgid);
    }
    EXPECT_TRUE(has_pid) << "listener=" << listener;
    EXPECT_EQ(has_pgid, !listener);
  }
}

TEST(BpfTemplate, SpecsWithoutBothIdsAreBuiltByLibseccomp) {
  FilterSpec spec;
  spec.supervisor_pid = getpid();
  spec.supervisor_pgid = 0;
  EXPECT_FALSE(program_from_template(spec).has_value());
  auto built = build_filter(spec);
  ASSERT_TRUE(built) << built.error().to_string();
  EXPECT_FALSE(built->insns.empty());
}

TEST(BpfTemplate, InterpreterSeesTheArchitectureCheck) {
  // Guards the comparison above against an interpreter that agrees with
  // everything: a foreign architecture is killed, a refused call refused.
  FilterSpec spec;
  spec.supervisor_pid = 4242;
  spec.supervisor_pgid = 4242;
  auto prog = build_filter_with_libseccomp(spec, SCMP_ARCH_X86_64, filter_values(spec));
  ASSERT_TRUE(prog);
  struct seccomp_data d;
  std::memset(&d, 0, sizeof(d));
  d.arch = AUDIT_ARCH_I386;
  EXPECT_EQ(run_bpf(prog->insns, d), SECCOMP_RET_KILL_PROCESS);
  d.arch = AUDIT_ARCH_X86_64;
  d.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "ptrace");
  EXPECT_EQ(run_bpf(prog->insns, d), SECCOMP_RET_ERRNO | EPERM);
  d.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "kill");
  d.args[0] = 4242;
  EXPECT_EQ(run_bpf(prog->insns, d), SECCOMP_RET_ERRNO | EPERM);
  d.args[0] = 4243;
  EXPECT_EQ(run_bpf(prog->insns, d), SECCOMP_RET_ALLOW);
  d.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "getppid");
  EXPECT_EQ(run_bpf(prog->insns, d), SECCOMP_RET_ALLOW);
}

}  // namespace
}  // namespace fnguard::kernel
