// Placeholder until the parser lands: every load fails with a clear error.
#include "fnguard/policy/policy.h"

namespace fnguard::policy {

CompileOptions compile_options_from_environment() { return {}; }

Result<LoadedPolicy> load_policy_text(std::string_view, std::string_view, const CompileOptions&) {
  return make_error("policy parsing is not implemented yet in this build");
}

Result<LoadedPolicy> load_policy_file(const std::string&, const CompileOptions&) {
  return make_error("policy parsing is not implemented yet in this build");
}

LoadedPolicy default_policy(const CompileOptions&) { return {}; }

std::optional<image::Mode> parse_mode(std::string_view text) {
  if (text == "off") return image::Mode::kOff;
  if (text == "monitor") return image::Mode::kMonitor;
  if (text == "block") return image::Mode::kBlock;
  return std::nullopt;
}

}  // namespace fnguard::policy
