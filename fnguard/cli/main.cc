// fnguard: one binary for the CLI, the supervisor and the Lambda wrapper.
// Dispatches to the subcommands in commands.h.
#include <cstdio>
#include <cstring>

#include "fnguard/cli/commands.h"
#include "fnguard/lambda/wrapper.h"

namespace {

constexpr const char* kUsage =
    "usage: fnguard <command> [args]\n"
    "  run [--policy FILE] [--mode off|monitor|block] [--events FILE|-] -- CMD [ARG...]\n"
    "  policy check FILE...\n"
    "  policy show FILE\n"
    "  layer build [--arch x86_64|arm64] [--policy FILE] --out FILE.zip\n"
    "  local invoke --dir DIR --handler MODULE.FUNC --runtime nodejs|python [...]\n"
    "  local serve  --dir DIR --handler MODULE.FUNC --runtime nodejs|python [...]\n"
    "  doctor\n"
    "  version\n";

// The layer's /opt/fnguard-wrapper is this binary under another name (a
// relative symlink, or a copy where a packaging tool flattened the link):
// Lambda runs it with the runtime's command line, so no shell script and no
// second exec stand between Lambda and the protected runtime.
bool invoked_as_wrapper(const char* argv0) {
  if (argv0 == nullptr) return false;
  const char* slash = std::strrchr(argv0, '/');
  return std::strcmp(slash != nullptr ? slash + 1 : argv0, "fnguard-wrapper") == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && invoked_as_wrapper(argv[0])) return fnguard::lambda::wrapper_main(argc, argv);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? fnguard::cli::kExitUsage : 0;
  }
  const char* cmd = argv[1];
  if (std::strcmp(cmd, "version") == 0 || std::strcmp(cmd, "--version") == 0) {
    std::printf("fnguard %s\n", FNGUARD_VERSION);
    return 0;
  }
  struct Entry {
    const char* name;
    int (*fn)(int, char**);
  };
  static const Entry kCommands[] = {
      {"run", fnguard::cli::cmd_run},       {"policy", fnguard::cli::cmd_policy},
      {"doctor", fnguard::cli::cmd_doctor}, {"layer", fnguard::cli::cmd_layer},
      {"local", fnguard::cli::cmd_local},
      {"wrapper", fnguard::lambda::wrapper_main},  // hidden: the Lambda exec wrapper
  };
  for (const Entry& e : kCommands) {
    if (std::strcmp(cmd, e.name) == 0) return e.fn(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "fnguard: unknown command '%s'; run 'fnguard --help' for the list\n", cmd);
  return fnguard::cli::kExitUsage;
}
