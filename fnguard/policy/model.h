// The policy model: what stage 2 ("collect") makes of the node tree, and what
// stage 3 ("compile") turns into an image. Every item remembers where it sat
// in the source. Values are already checked, variables expanded and paths
// normalised: compile cannot fail on them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fnguard/common/result.h"
#include "fnguard/image/format.h"
#include "fnguard/policy/net_target.h"

namespace fnguard::policy {

struct RuleModel {
  enum class Kind { kPathGlob, kExecNames, kExecSha256, kNetTarget };
  image::Verdict verdict = image::Verdict::kDeny;
  image::Phase phase = image::Phase::kAny;
  Kind kind = Kind::kPathGlob;
  uint32_t index = 0;  // position in the user's rule list
  Location where;
  std::string glob;                  // kPathGlob: expanded and normalised
  std::vector<std::string> names;    // kExecNames
  std::array<uint8_t, 32> sha256{};  // kExecSha256
  std::string sha256_hex;            // kExecSha256, lower-case
  ParsedNetTarget target;            // kNetTarget
};

struct ControlModel {
  bool present = false;             // the section appears in the policy
  std::optional<image::Mode> mode;  // per-control override of the top-level mode
  image::Verdict default_verdict = image::Verdict::kAllow;
  image::Mode taint = image::Mode::kOff;
  std::vector<RuleModel> rules;
};

struct PolicyModel {
  image::Mode top_mode = image::Mode::kMonitor;
  ControlModel files_read;
  ControlModel files_write;
  ControlModel net_outbound;
  ControlModel net_inbound;  // no rules: a mode and a default
  ControlModel process_exec;
  std::optional<image::Mode> exec_from_writable;  // absent: off

  bool inspect_present = false;
  std::optional<image::Mode> inspect_mode;
  // inspect.detectors as listed; when the key is absent, every detector.
  std::vector<std::string> inspect_detectors;

  bool honeypots_present = false;
  bool honeypot_env = false;
  std::vector<std::string> honeypot_files;

  bool require_preload = true;
  bool require_kernel = false;
};

}  // namespace fnguard::policy
