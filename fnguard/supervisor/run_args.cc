// `fnguard run` argument parsing (see run_args.h).
#include "fnguard/supervisor/run_args.h"

#include <cstring>
#include <string_view>

#include "fnguard/policy/policy.h"

namespace fnguard::supervisor {

Result<RunArgs> parse_run_args(int argc, const char* const* argv) {
  RunArgs args;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      args.help = true;
      return args;
    }
    if (arg.size() < 2 || arg.substr(0, 2) != "--") {
      if (!arg.empty() && arg[0] == '-') {
        return make_error("unknown option '" + std::string(arg) + "'", kRunUsage);
      }
      break;  // the command
    }
    std::string_view name = arg;
    std::optional<std::string> value;
    size_t eq = arg.find('=');
    if (eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    if (name != "--policy" && name != "--mode" && name != "--events") {
      return make_error("unknown option '" + std::string(name) + "'", kRunUsage);
    }
    if (!value) {
      if (i + 1 >= argc) {
        return make_error("option " + std::string(name) + " needs a value", kRunUsage);
      }
      value = argv[++i];
    }
    if (value->empty()) {
      return make_error("option " + std::string(name) + " needs a non-empty value", kRunUsage);
    }
    if (name == "--policy") {
      args.policy_file = *value;
    } else if (name == "--events") {
      args.events = *value;
    } else {
      args.mode = policy::parse_mode(*value);
      if (!args.mode) {
        return make_error("--mode must be off, monitor or block, not '" + *value + "'", kRunUsage);
      }
    }
  }
  for (; i < argc; ++i) args.command.emplace_back(argv[i]);
  if (args.command.empty()) {
    return make_error("no command given to run", kRunUsage);
  }
  return args;
}

}  // namespace fnguard::supervisor
