// `fnguard policy check FILE...` and `fnguard policy show [--mode M] FILE`.
//
// check: every problem of every file, one per line on stderr as
// "file:line:col: message (hint)", exit 2 if any file is invalid; valid files
// print "FILE: ok" on stdout, followed by their warnings and the sections
// that are parsed but not enforced yet.
// show: the effective policy (defaults applied, variables expanded, symbolic
// links resolved, built-in rules added) as JSON on stdout.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fnguard/cli/commands.h"
#include "fnguard/policy/policy.h"

namespace fnguard::cli {
namespace {

constexpr const char* kPolicyUsage =
    "usage: fnguard policy check FILE...\n"
    "       fnguard policy show [--mode off|monitor|block] FILE\n";

int usage(const char* problem) {
  if (problem != nullptr) std::fprintf(stderr, "fnguard policy: %s\n", problem);
  std::fputs(kPolicyUsage, stderr);
  return kExitUsage;
}

void print_notes(const std::string& file, const policy::LoadedPolicy& loaded) {
  for (const policy::Warning& w : loaded.warnings) {
    std::string where = w.where.to_string();
    if (where.empty()) where = file;
    std::printf("%s: warning: %s\n", where.c_str(), w.message.c_str());
  }
  for (const std::string& line : loaded.not_enforced) {
    std::printf("%s: note: %s\n", file.c_str(), line.c_str());
  }
}

int check(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      for (++i; i < argc; ++i) files.emplace_back(argv[i]);
      break;
    }
    if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return usage(("unknown option '" + std::string(argv[i]) + "' for 'policy check'").c_str());
    }
    files.emplace_back(argv[i]);
  }
  if (files.empty()) return usage("'policy check' needs at least one policy file");
  policy::CompileOptions options = policy::compile_options_from_environment();
  bool all_ok = true;
  for (const std::string& file : files) {
    policy::CheckResult result = policy::check_policy_file(file, options);
    if (!result.policy) {
      all_ok = false;
      for (const Error& e : result.errors) {
        std::fprintf(stderr, "%s\n", e.to_string().c_str());
      }
      continue;
    }
    std::printf("%s: ok\n", file.c_str());
    print_notes(file, *result.policy);
  }
  std::fflush(stdout);
  return all_ok ? 0 : kExitUsage;
}

int show(int argc, char** argv) {
  policy::CompileOptions options = policy::compile_options_from_environment();
  std::string file;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mode" || arg.rfind("--mode=", 0) == 0) {
      std::string value;
      if (arg == "--mode") {
        if (i + 1 >= argc) return usage("--mode needs a value: off, monitor or block");
        value = argv[++i];
      } else {
        value = arg.substr(7);
      }
      options.mode_override = policy::parse_mode(value);
      if (!options.mode_override) {
        return usage(("'" + value + "' is not a mode; use off, monitor or block").c_str());
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage(("unknown option '" + arg + "' for 'policy show'").c_str());
    } else if (!file.empty()) {
      return usage("'policy show' takes one policy file");
    } else {
      file = arg;
    }
  }
  if (file.empty()) return usage("'policy show' needs a policy file");
  policy::CheckResult result = policy::check_policy_file(file, options);
  if (!result.policy) {
    for (const Error& e : result.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return kExitUsage;
  }
  std::fputs(result.policy->effective_json.c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : kExitInternal;
}

}  // namespace

int cmd_policy(int argc, char** argv) {
  if (argc < 2) return usage("missing subcommand: check or show");
  const char* sub = argv[1];
  if (std::strcmp(sub, "check") == 0) return check(argc - 2, argv + 2);
  if (std::strcmp(sub, "show") == 0) return show(argc - 2, argv + 2);
  if (std::strcmp(sub, "--help") == 0 || std::strcmp(sub, "-h") == 0) {
    std::fputs(kPolicyUsage, stdout);
    return 0;
  }
  return usage(("unknown subcommand '" + std::string(sub) + "'; use check or show").c_str());
}

}  // namespace fnguard::cli
