// The command line of `fnguard run`, parsed without side effects so that it
// can be tested:
//
//   fnguard run [--policy FILE] [--mode off|monitor|block] [--events FILE|-] -- CMD [ARG...]
//
// Flags take their value as the next argument or after '=' (--mode=block).
// The command starts after "--" or at the first argument that is not a flag.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/format.h"

namespace fnguard::supervisor {

struct RunArgs {
  std::optional<std::string> policy_file;
  std::optional<image::Mode> mode;
  std::optional<std::string> events;  // "-" is stdout
  std::vector<std::string> command;   // never empty on success
  bool help = false;                  // --help: print usage, run nothing
};

// argv[0] is "run".
Result<RunArgs> parse_run_args(int argc, const char* const* argv);

inline constexpr const char* kRunUsage =
    "usage: fnguard run [--policy FILE] [--mode off|monitor|block] [--events FILE|-] -- CMD "
    "[ARG...]";

}  // namespace fnguard::supervisor
