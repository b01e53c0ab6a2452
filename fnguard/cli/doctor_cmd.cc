// `fnguard doctor [--policy FILE] [--mode M]`: which enforcement layers this
// kernel offers (seccomp filter, user notification and its flags, Landlock
// ABI, no_new_privs), and which of them the given policy (or the built-in
// default) would use here, with the reason for each one it would not. Always
// exits 0 when it could answer (a missing layer is information, not an
// error); 2 on bad usage or an invalid policy.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fnguard/cli/commands.h"
#include "fnguard/common/self_path.h"
#include "fnguard/kernel/backstop.h"
#include "fnguard/kernel/probe.h"
#include "fnguard/policy/policy.h"

namespace fnguard::cli {
namespace {

constexpr const char* kUsage =
    "usage: fnguard doctor [--policy FILE] [--mode off|monitor|block]\n"
    "Prints which enforcement layers this kernel offers and which the policy would use.";

void row(const char* name, const std::string& value, const std::string& detail = {}) {
  std::printf("  %-28s %-12s %s\n", name, value.c_str(), detail.c_str());
}

const char* yes(bool v) { return v ? "yes" : "no"; }

}  // namespace

int cmd_doctor(int argc, char** argv) {
  std::string policy_file;
  policy::CompileOptions options = policy::compile_options_from_environment();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--policy" || a == "--mode") && i + 1 < argc) {
      std::string v = argv[++i];
      if (a == "--policy") {
        policy_file = v;
      } else {
        options.mode_override = policy::parse_mode(v);
        if (!options.mode_override) {
          std::fprintf(stderr, "fnguard: doctor: --mode must be off, monitor or block, not '%s'\n",
                       v.c_str());
          return kExitUsage;
        }
      }
    } else if (a == "-h" || a == "--help") {
      std::printf("%s\n", kUsage);
      return 0;
    } else {
      std::fprintf(stderr, "fnguard: doctor: unexpected argument '%s'\n%s\n", a.c_str(), kUsage);
      return kExitUsage;
    }
  }

  kernel::KernelFeatures f = kernel::probe_kernel();
  std::printf("Kernel %s offers:\n", f.release.c_str());
  row("no_new_privs", yes(f.no_new_privs));
  row("seccomp filter", yes(f.seccomp_filter),
      f.seccomp_mode_now == 2 ? "(fnguard itself already runs under a filter; filters stack)" : "");
  row("seccomp user notification", yes(f.user_notif));
  row("  USER_NOTIF_FLAG_CONTINUE", yes(f.notif_continue),
      "(Linux 5.5; needed for exec supervision)");
  row("  NOTIF_ADDFD", yes(f.notif_addfd), "(Linux 5.9; not used yet)");
  row("Landlock", f.landlock_abi > 0 ? "ABI " + std::to_string(f.landlock_abi) : "no",
      f.landlock_reason);
  if (f.landlock_abi > 0) {
    row("  TCP port rules", yes(f.landlock_net()), "(ABI 4)");
    row("  signal scoping", yes(f.landlock_scope()), "(ABI 6)");
  }

  Result<policy::LoadedPolicy> loaded =
      policy_file.empty() ? Result<policy::LoadedPolicy>(policy::default_policy(options))
                          : policy::load_policy_file(policy_file, options);
  if (!loaded) {
    std::fprintf(stderr, "fnguard: %s\n", loaded.error().to_string().c_str());
    return kExitUsage;
  }
  image::View view(loaded->image.data(), loaded->image.size());
  std::printf("\nPolicy %s (mode %s) would use:\n", loaded->source.c_str(),
              image::mode_name(view.header().top_mode));

  std::string library = enforcer_library_path();
  bool have_library = access(library.c_str(), R_OK) == 0;
  row("preload (libfnguard.so)", yes(have_library),
      have_library ? library : library + " is missing");

  kernel::BackstopOptions bo;
  bo.features = f;
  bo.emit = [](std::string) {};  // doctor starts nothing
  auto backstop = kernel::Backstop::prepare(view, std::move(bo));
  if (!backstop) {
    row("kernel backstop", "REFUSED", backstop.error().message);
    std::printf("\n`fnguard run` with this policy would refuse to start (exit 125).\n");
    return 0;
  }
  const kernel::LayerStatus& st = backstop.value()->status();
  if (!st.enabled) row("kernel backstop", "off", "FNGUARD_KERNEL=off is set");
  row("seccomp denylist", yes(st.denylist),
      st.denylist                                     ? "(refused calls: see docs/THREAT_MODEL.md)"
      : view.header().top_mode != image::Mode::kBlock ? "(only in block mode)"
                                                      : "");
  row("exec supervision (seccomp)", yes(st.exec_supervision));
  row("Landlock", st.landlock);
  for (const std::string& m : st.missing) std::printf("  missing: %s\n", m.c_str());
  for (const std::string& n : st.notes) std::printf("  note: %s\n", n.c_str());
  if (loaded->require_kernel)
    std::printf("  require.kernel is set: fnguard run refuses to start without seccomp.\n");
  return 0;
}

}  // namespace fnguard::cli
